"""Tests of layersim.capture against files written by real tools and against tshark and capinfos."""
