"""Evidence files as bytes: what a file really is, and a phone photo made safe to keep.

Nothing here knows about Flask or the database. `sniff` reads magic bytes only (a
file's name says nothing about its content). `process_image` decodes JPEG, PNG, WebP,
HEIC/HEIF and (where the installed Pillow reads it) AVIF, turns the picture upright
from its EXIF orientation, reads capture time and GPS from the EXIF for review, and
re-encodes a JPEG that carries no metadata at all (no EXIF, GPS, XMP, ICC profile or
comment), plus a small thumbnail and a difference hash of the upright picture
(`difference_hash`), which stays the same when a photo is re-saved or resized, so a
reused photo is found whatever was done to it.

Decoding is the expensive part, so the cheap checks come first: `check_header` reads
the size from the header (and, for HEIC and AVIF, that no box of the file is cut
off) without decoding a pixel; a caller with several files checks them all before
decoding any. A JPEG is decoded straight at 1/2, 1/4 or 1/8 of its size where that
still fills the stored picture; every other format is decoded whole, then shrunk
before anything else is done to it, so a worker holds one full-size picture at most.
A picture that decodes to another size than its header declared is refused as
damaged, as is a truncated one.
"""

import io
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pillow_heif
from PIL import ExifTags, Image, ImageCms, ImageFile, UnidentifiedImageError, features

from . import photo_exif

pillow_heif.register_heif_opener()

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
HEIC = "image/heic"
HEIF = "image/heif"
AVIF = "image/avif"
IMAGE_TYPES = (JPEG, PNG, WEBP, HEIC, HEIF, AVIF)
# Pillow reads AVIF itself when it was built with libavif (the pinned wheels are);
# pillow-heif's libheif has no AV1 decoder. Without it, AVIF is not taken at all.
AVIF_READABLE = bool(features.check("avif"))

M4A = "audio/mp4"
MP4 = "video/mp4"  # an ISO media file without an audio-only brand (Safari's recorder)
MP3 = "audio/mpeg"
OGG = "audio/ogg"
WEBM = "audio/webm"
WAV = "audio/wav"
AUDIO_TYPES = (M4A, MP4, MP3, OGG, WEBM, WAV)
AUDIO_EXTENSIONS = {M4A: "m4a", MP4: "mp4", MP3: "mp3", OGG: "ogg", WEBM: "webm", WAV: "wav"}

STORED_QUALITY = 85
THUMB_QUALITY = 80
THUMB_SIDE = 320
# Phone photos up to 12 MP (4032 x 3024) keep their full size; larger ones are scaled
# down to this longest side, which still shows a price tag or a badge clearly.
MAX_SIDE = 4096
# Refuse to decode anything larger: 8192 x 6144, twice the stored side in a phone's
# 4:3 frame. The largest photos phones take in their usual modes pass (48 MP iPhone
# 8064 x 6048, 50 MP Android 8160 x 6144); the stored picture is at most 4096 on its
# longest side whatever comes in, so more pixels only cost memory and time: a 64 MP
# RGBA PNG of 250 KB took 16 s and 780 MB. At this cap a picture needs some 200 MB
# while it is shrunk (twice that for a transparent one), and a form's pictures are
# decoded one after the other.
MAX_PIXELS = 8192 * 6144
# Top-level boxes of a HEIC or AVIF file: phones write three or four.
MAX_BOXES = 64

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_GENERIC_HEIF_BRANDS = {b"mif1", b"msf1"}
_AUDIO_MP4_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
_MP4_BRANDS = {
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"3gp4", b"3gp5",
    b"3gp6", b"3g2a", b"dash",
}  # fmt: skip


class UnreadableImage(ValueError):
    """The bytes are not a picture we can decode (damaged, truncated or not an image)."""


class ImageTooLarge(UnreadableImage):
    """The picture has more pixels than we are willing to decode."""


@dataclass(frozen=True)
class ProcessedImage:
    image_bytes: bytes  # upright JPEG without any metadata
    thumb_bytes: bytes  # JPEG, longest side at most THUMB_SIDE
    width: int  # of image_bytes
    height: int
    # From EXIF. Aware (UTC) when the camera recorded its offset; otherwise naive
    # local time of the camera, for the caller to read in the store's time zone.
    taken_at: datetime | None
    gps: tuple[Decimal, Decimal] | None  # (latitude, longitude), 6 decimal places
    dhash: str  # difference_hash of the upright picture: 16 lowercase hex digits


# --- what the bytes are ---------------------------------------------------------------


def sniff(data: bytes) -> str | None:
    """The content type the bytes themselves declare, or None for anything we do not
    take. Only magic numbers count, never a file name or a browser's claim."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[4:8] == b"ftyp":
        return _sniff_iso_media(data)
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head:
        return WEBM
    if head.startswith(b"ID3") or _mp3_frame(head):
        return MP3
    return None


def _sniff_iso_media(data: bytes) -> str | None:
    """HEIC/HEIF and MP4 audio share one container; its `ftyp` box names the brands."""
    size = int.from_bytes(data[:4], "big")
    if size < 16 or size > 4096 or len(data) < size:
        return None
    major = data[8:12]
    brands = {major} | {data[i : i + 4] for i in range(16, size - 3, 4)}
    if major in (b"avif", b"avis") or (major in _GENERIC_HEIF_BRANDS and b"avif" in brands):
        return AVIF if AVIF_READABLE else None
    if major in _HEIF_BRANDS:
        return HEIC
    if major in _GENERIC_HEIF_BRANDS:
        return HEIC if brands & _HEIF_BRANDS else HEIF
    if brands & _AUDIO_MP4_BRANDS:
        return M4A
    if brands & _MP4_BRANDS:
        return MP4
    return None


def _mp3_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a known layer and a usable bitrate."""
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer, bitrate = (head[1] >> 3) & 3, (head[1] >> 1) & 3, head[2] >> 4
    return version != 1 and layer != 0 and bitrate not in (0, 15)


# --- a photo made safe to keep --------------------------------------------------------


def check_header(data: bytes, *, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """The picture's (width, height) as its header declares them, without decoding it.
    Raises ImageTooLarge past max_pixels, UnreadableImage for anything that is not a
    picture we read or whose container is cut off."""
    with _open(data) as image:
        _check_pixels(image, max_pixels)
        return image.size


def process_image(
    data: bytes, *, max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE
) -> ProcessedImage:
    """Decodes a JPEG, PNG, WebP, HEIC/HEIF or AVIF photo and returns it upright,
    re-encoded without metadata, with its thumbnail and what its EXIF said about time
    and place. Raises ImageTooLarge or UnreadableImage (both ValueError) with a plain
    message."""
    with _open(data) as image:
        _check_pixels(image, max_pixels)
        # Broken EXIF (any of a dozen errors) never stops the photo itself.
        try:
            exif = image.getexif()
            orientation = exif.get(ExifTags.Base.Orientation)
        except Exception:
            exif, orientation = Image.Exif(), None
        # Each on its own: a time that cannot be read must not cost the place.
        try:
            taken_at = photo_exif.capture_time(exif)
        except Exception:
            taken_at = None
        try:
            gps = photo_exif.gps(exif)
        except Exception:
            gps = None
        try:
            upright = _decode_upright(image, max_side, orientation)
        except UnreadableImage:
            raise
        except (OSError, ValueError, SyntaxError, EOFError, RuntimeError) as error:
            # libheif raises RuntimeError when the pixels disagree with the header.
            raise UnreadableImage("The image is damaged or incomplete.") from error
    image_bytes = _jpeg(upright, STORED_QUALITY)
    thumb = upright.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return ProcessedImage(
        image_bytes=image_bytes,
        thumb_bytes=_jpeg(thumb, THUMB_QUALITY),
        width=upright.width,
        height=upright.height,
        taken_at=taken_at,
        gps=gps,
        dhash=difference_hash(upright),
    )


def _open(data: bytes) -> Image.Image:
    """The image with its header read and nothing decoded yet."""
    # WeasyPrint (the PDF reports) turns this on for the whole process when it is
    # imported; a half-received upload must still be refused as damaged.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    if data[4:8] == b"ftyp" and not _boxes_complete(data):
        raise UnreadableImage("The image is damaged or incomplete.")
    try:
        return Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageTooLarge("The image has too many pixels to process safely.") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, RuntimeError) as error:
        raise UnreadableImage("The file is not an image that can be read.") from error


def _check_pixels(image: Image.Image, max_pixels: int) -> None:
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    if image.width * image.height > limit:
        raise ImageTooLarge(
            f"The image has {image.width} x {image.height} pixels; "
            f"at most {limit} pixels can be processed."
        )


def _boxes_complete(data: bytes) -> bool:
    """HEIC and AVIF are ISO media files: a row of boxes, each starting with its size.
    In a whole file they end exactly at its end; a cut-off download ends inside the
    last one. (libheif decodes a tiled HEIC with missing tiles without complaint.)
    A real photo has a handful of top-level boxes (ftyp, meta, mdat, perhaps free);
    past MAX_BOXES the file is refused, so a file of tiny boxes costs no long walk."""
    offset, boxes = 0, 0
    while offset < len(data):
        boxes += 1
        if boxes > MAX_BOXES:
            return False  # more boxes than any photo has
        if offset + 8 > len(data):
            return False
        size = int.from_bytes(data[offset : offset + 4], "big")
        if size == 0:  # the last box, running to the end of the file
            return True
        if size == 1:  # a 64-bit size follows the box type
            if offset + 16 > len(data):
                return False
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        if size < 8:
            return False
        offset += size
    return offset == len(data)


_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}  # EXIF orientation -> the turn that makes the picture upright (as ImageOps.exif_transpose)


def _decode_upright(image: Image.Image, max_side: int, orientation: object) -> Image.Image:
    """The pixels in sRGB, scaled to max_side, turned by the EXIF orientation, with
    every piece of metadata left behind. The full-size picture is shrunk first and
    let go, so each later step works on the small one."""
    if image.format == "JPEG":
        _draft(image, max_side)
    declared = image.size
    image.load()  # all of it: a damaged or truncated file fails here
    if image.size != declared:
        # pillow-heif takes the size the decoder found; a damaged file can disagree
        # with its own header and come out as a scrap of the picture.
        raise UnreadableImage("The image is damaged or incomplete.")
    icc = image.info.get("icc_profile")
    picture = _shrink(_resizable(image), max_side)
    if picture is not image:
        image.close()  # frees the full-size pixels now, not when the caller is done
    picture = _eight_bit(picture)
    if isinstance(orientation, int) and orientation in _TURNS:
        picture = picture.transpose(_TURNS[orientation])
    picture = _flatten(picture)
    if icc:
        picture = _to_srgb(picture, icc)
    clean = Image.new("RGB", picture.size)  # a fresh image: no info, EXIF, XMP or ICC
    clean.paste(picture)
    return clean


def _draft(image: Image.Image, max_side: int) -> None:
    """A JPEG decodes at 1/2, 1/4 or 1/8 of its size for little more than the cost of
    reading it. Take the smallest scale that still gives 3/4 of the stored side: a
    48 MP photo (8064 px) decodes at 4032 px, a quarter of the memory and time."""
    enough = max_side * 3 // 4
    scale = max(image.size) / enough
    if scale >= 2:
        image.draft(None, (math.ceil(image.width / scale), math.ceil(image.height / scale)))


_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def _resizable(image: Image.Image) -> Image.Image:
    """A mode Pillow resizes smoothly: palette and 1-bit pictures resize by nearest
    pixel only, so they are expanded first (they are small per pixel to begin with)."""
    if image.mode in ("P", "PA"):
        keeps_alpha = image.mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if keeps_alpha else "RGB")
    if image.mode == "1":
        return image.convert("L")
    return image


def _shrink(image: Image.Image, max_side: int) -> Image.Image:
    """At most max_side on the longest side; the picture itself if it already fits."""
    if max(image.size) <= max_side:
        return image
    ratio = max_side / max(image.size)
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    # A picture twice the size or more is first averaged down by a whole factor (fast:
    # a quarter of the time of a filter over all its pixels; plenty for a photo), then
    # filtered to the exact size. Pillow cannot average 16-bit greyscale.
    gap = None if image.mode in _SIXTEEN_BIT else 1.0
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=gap)


def _eight_bit(image: Image.Image) -> Image.Image:
    """16-bit greyscale (a PNG from a scanner or a camera app) scaled to 8 bits; a
    plain conversion clips every value above 255 and the picture comes out white."""
    if image.mode not in _SIXTEEN_BIT:
        return image
    grey = image.convert("I").point(lambda value: value / 257).convert("L")
    grey.info.pop("transparency", None)  # a 16-bit value, meaningless now
    return grey


def difference_hash(image: Image.Image) -> str:
    """The 64-bit difference hash ("dHash") of a picture as 16 lowercase hex digits.

    The picture is made grey and shrunk to 9 x 8 pixels; each bit says whether a pixel
    is darker than its right-hand neighbour, row by row, the first bit the highest.
    Re-encoding, resizing, brightness and colour changes keep the hash; a different
    picture gets a different one. Pass the picture upright (EXIF orientation applied):
    a turned copy hashes differently. Same convention as ``imagehash.dhash``."""
    small = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    pixels = small.tobytes()  # one byte per pixel, row by row
    value = 0
    for row in range(8):
        for column in range(8):
            left = pixels[row * 9 + column]
            value = value << 1 | (pixels[row * 9 + column + 1] > left)
    return f"{value:016x}"


def _flatten(image: Image.Image) -> Image.Image:
    """RGB; transparent parts (screenshots, stickers) become white, not black."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    """Phone photos are often Display P3; without the profile they would look dull."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted if converted is not None else image


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()
