"""Test pictures made on the fly with Pillow (no binary fixtures in the repository).

Every picture is red on its left half and blue on its right, so a test can tell which
way up it was stored. `sideways_jpeg` is what a phone held upright writes: pixels as
the sensor read them (landscape) and EXIF Orientation 6 ("turn 90° clockwise")."""

import io
import random
import zlib
from decimal import Decimal

import pillow_heif
from PIL import ExifTags, Image

RED, BLUE = (255, 0, 0), (0, 0, 255)
# People's Square, Shanghai: 31°13'48" N, 121°28'25.2" E.
SHANGHAI_DMS = {1: "N", 2: (31.0, 13.0, 48.0), 3: "E", 4: (121.0, 28.0, 25.2)}
SHANGHAI = (Decimal("31.230000"), Decimal("121.473667"))


def halves(size: tuple[int, int] = (40, 20), mode: str = "RGB") -> Image.Image:
    width, height = size
    image = Image.new(mode, size, RED)
    image.paste(BLUE, (width // 2, 0, width, height))
    return image


def exif_block(
    orientation: int | None = None,
    gps: dict[int, object] | None = None,
    taken: str | None = None,
    offset: str | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if gps is not None:
        exif[ExifTags.IFD.GPSInfo] = gps
    details: dict[int, object] = {}
    if taken is not None:
        details[ExifTags.Base.DateTimeOriginal] = taken
    if offset is not None:
        details[ExifTags.Base.OffsetTimeOriginal] = offset
    if details:
        exif[ExifTags.IFD.Exif] = details
    return exif


def sideways_jpeg(
    size: tuple[int, int] = (40, 20),
    gps: dict[int, object] | None = SHANGHAI_DMS,
    taken: str | None = "2025:03:04 10:15:30",
    offset: str | None = "+08:00",
    **save: object,
) -> bytes:
    out = io.BytesIO()
    exif = exif_block(orientation=6, gps=gps, taken=taken, offset=offset)
    halves(size).save(out, "JPEG", exif=exif, quality=95, **save)
    return out.getvalue()


def encode(image: Image.Image, fmt: str, **save: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def png(size: tuple[int, int] = (40, 20), mode: str = "RGB") -> bytes:
    return encode(halves(size, mode), "PNG")


def webp(size: tuple[int, int] = (40, 20)) -> bytes:
    return encode(halves(size), "WEBP", quality=90)


def heic(
    size: tuple[int, int] = (40, 20),
    exif: Image.Exif | None = None,
    picture: Image.Image | None = None,
    **save: object,
) -> bytes:
    """Encoded with pillow_heif's own encoder (x265 in the pinned wheel). If the build
    could not encode HEIC this raises, and the tests say so instead of skipping.
    `tile_size=512` writes a grid of tiles, as iPhones do."""
    heif = pillow_heif.from_pillow(picture if picture is not None else halves(size))
    out = io.BytesIO()
    if exif is not None:
        save["exif"] = exif.tobytes()
    heif.save(out, quality=90, **save)
    return out.getvalue()


def avif(size: tuple[int, int] = (40, 20), picture: Image.Image | None = None) -> bytes:
    """Encoded by Pillow's own AVIF plugin (libavif); raises KeyError or OSError where
    the installed Pillow was built without it."""
    return encode(picture if picture is not None else halves(size), "AVIF", quality=90)


def noise(size: tuple[int, int]) -> Image.Image:
    """A picture that does not compress: cutting its file loses real pixels."""
    return Image.effect_noise(size, 80).convert("RGB")


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares width x height RGBA pixels and holds none: the header of a
    "decompression bomb", made without spending the memory of a real one."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 6, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def colour_at(data: bytes, xy: tuple[int, int]) -> str:
    """ "red" or "blue" (or "other"), with room for JPEG's rounding."""
    with Image.open(io.BytesIO(data)) as image:
        r, g, b = image.convert("RGB").getpixel(xy)[:3]
    if r > 200 and b < 60 and g < 60:
        return "red"
    if b > 200 and r < 60 and g < 60:
        return "blue"
    return "other"


def scene(seed: int, size: tuple[int, int] = (360, 240)) -> Image.Image:
    """A made-up photo: soft bands of light and shade, different for every seed."""
    rng = random.Random(seed)
    grid = Image.new("RGB", (9, 8))
    for y in range(8):
        level = rng.randrange(256)
        for x in range(9):
            step = rng.choice((-1, 1)) * rng.randrange(50, 100)
            level = level + step if 0 <= level + step <= 255 else level - step
            tint = rng.randrange(-20, 21)
            red, blue = min(255, max(0, level + tint)), min(255, max(0, level - tint))
            grid.putpixel((x, y), (red, level, blue))
    return grid.resize(size, Image.Resampling.BICUBIC)
