"""Parse the socket-call half of a script line: `name(args) = result [ERRNO (note)]`."""

from __future__ import annotations

from layersim.tcpcheck.lexer import TokenCursor, shown
from layersim.tcpcheck.model import Array, Call, Expr, Field, Flags, Symbol, Syscall

__all__ = ["parse_call"]


def _expr(tokens: TokenCursor) -> Expr:
    """One call argument: ..., integer, NAME, "string", A|B, [..], {..}, name=value, func(args)."""
    parts = [_primary(tokens)]
    while tokens.accept("|"):
        parts.append(_primary(tokens))
    return parts[0] if len(parts) == 1 else Flags(tuple(parts))


def _list(tokens: TokenCursor, close: str) -> tuple[Expr, ...]:
    """Comma-separated expressions up to `close`."""
    items: list[Expr] = []
    if tokens.accept(close):
        return ()
    items.append(_expr(tokens))
    while tokens.accept(","):
        items.append(_expr(tokens))
    tokens.expect(close, f"',' or {close!r}")
    return tuple(items)


def _primary(tokens: TokenCursor) -> Expr:
    """An expression without `|`."""
    token = tokens.peek
    if tokens.accept("..."):
        return ...
    if token.kind == "number" or token.text == "-":
        return tokens.integer("a number", signed=True)
    if token.kind == "string":
        tokens.take()
        text = token.text[1:-1]
        while tokens.peek.kind == "string":
            text += tokens.take().text[1:-1]
        return text
    if tokens.accept("["):
        return Array(_list(tokens, "]"))
    if tokens.accept("{"):
        return Array(_list(tokens, "}"), braces=True)
    if token.kind == "word":
        tokens.take()
        if tokens.accept("="):
            return Field(token.text, _expr(tokens))
        if tokens.accept("("):
            call = Call(token.text, _list(tokens, ")"))
            if tokens.accept("="):  # a struct field with a length: `msg_iov(1)=[{..., 1000}]`
                return Field(call.name, _expr(tokens))
            return call
        return Symbol(token.text)
    raise tokens.error(token, f"expected an argument, found {shown(token)}")


def parse_call(tokens: TokenCursor) -> Syscall:
    """`name(args) = result [ERRNO (note)]`."""
    name = tokens.take().text
    tokens.expect("(", f"'(' after {name}")
    args = _list(tokens, ")")
    tokens.expect("=", f"'= result' after {name}(...)")
    result: int | None = None
    if not tokens.accept("..."):
        result = tokens.integer("the expected result", signed=True)
    errno_name = None
    if tokens.peek.kind == "word":
        errno_name = tokens.take().text
        if not (errno_name.startswith("E") and errno_name.isupper()):
            raise tokens.error(tokens.tokens[tokens.at - 1], f"expected an errno name like EAGAIN, found "
                                                            f"{errno_name!r}")
    if tokens.accept("("):  # strace-style note: (Operation now in progress)
        while tokens.peek.text != ")" and tokens.peek.kind != "end":
            tokens.take()
        tokens.expect(")", "')' closing the note")
    tokens.end()
    if errno_name is not None and result != -1:
        raise tokens.error(tokens.tokens[0], f"an errno ({errno_name}) goes with the result -1, not {result}")
    return Syscall(name, args, result, errno_name)
