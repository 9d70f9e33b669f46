"""`layersim tcpcheck`: run packetdrill-format scripts against layersim's sans-IO TCP."""

from __future__ import annotations

from layersim.tcpcheck.errors import ScriptParseError, UnsupportedScriptError
from layersim.tcpcheck.parser import parse_file, parse_script

__all__ = ["ScriptParseError", "UnsupportedScriptError", "parse_file", "parse_script"]
