"""Capture files: write and read classic pcap and pcapng frames as bytes; decode_record decodes one by link type."""

from layersim.capture.decoding import decode_record, undecoded_reason
from layersim.capture.pcap import PcapWriter, read_pcap, write_pcap
from layersim.capture.pcapng import PcapngWriter, read_pcapng, write_pcapng
from layersim.capture.reader import read_capture
from layersim.capture.records import CaptureRecord, Direction, Interface, format_time

__all__ = [
    "CaptureRecord",
    "Direction",
    "Interface",
    "PcapWriter",
    "PcapngWriter",
    "decode_record",
    "format_time",
    "read_capture",
    "read_pcap",
    "read_pcapng",
    "undecoded_reason",
    "write_pcap",
    "write_pcapng",
]
