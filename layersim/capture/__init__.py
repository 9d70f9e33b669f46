"""Capture files: write and read classic pcap and pcapng frames as bytes, without decoding protocols."""

from layersim.capture.pcap import PcapWriter, read_pcap, write_pcap
from layersim.capture.pcapng import PcapngWriter, read_pcapng, write_pcapng
from layersim.capture.reader import read_capture
from layersim.capture.records import CaptureRecord, Interface, format_time

__all__ = [
    "CaptureRecord",
    "Interface",
    "PcapWriter",
    "PcapngWriter",
    "format_time",
    "read_capture",
    "read_pcap",
    "read_pcapng",
    "write_pcap",
    "write_pcapng",
]
