"""Golden data: real Linux captures, their recorders and the helpers that read facts off them."""
