"""Image decoding shared by every dataset: PIL open, then RGB, with a one-line error naming a bad file.

Dassl's `read_image` opens with PIL and converts to RGB, which turns grayscale JPEGs into three equal channels and
drops the alpha channel of RGBA PNGs (no compositing onto a background); this does the same.
"""

from __future__ import annotations

from PIL import Image, UnidentifiedImageError

from comma_bench.errors import UserError


def open_rgb(path: str) -> Image.Image:
    """The image at `path` as a fully decoded RGB PIL image."""
    try:
        with Image.open(path) as img:
            return img.convert("RGB")  # convert() decodes, so truncated files fail here, not later in a worker
    except FileNotFoundError:
        raise UserError(f"{path}: image file does not exist") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UserError(f"{path}: not a readable image ({exc.__class__.__name__}: {exc})") from None
