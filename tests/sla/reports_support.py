"""Helpers of the report tests: PDF text and inflated PDF bytes."""

import re
import subprocess
import zlib

STREAM_RE = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def pdf_text(pdf_bytes, tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8").replace("\u00a0", " ")


def html_text(response):
    """The page as text, non-breaking spaces (between figures and units) as spaces."""
    return response.content.decode("utf-8").replace("\u00a0", " ")


def pdf_all_bytes(pdf_bytes):
    """The PDF with every Flate stream inflated (fonts, pages, object streams,
    metadata), so that a search sees every string the file carries."""
    parts = [pdf_bytes]
    for raw in STREAM_RE.findall(pdf_bytes):
        try:
            parts.append(zlib.decompressobj().decompress(raw))
        except zlib.error:
            parts.append(raw)
    return b"\n".join(parts)
