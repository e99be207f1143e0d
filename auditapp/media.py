"""Evidence files as bytes: what a file really is, and a phone photo made safe to keep.

Nothing here knows about Flask or the database. `sniff` reads magic bytes only (a
file's name says nothing about its content). `process_image` decodes JPEG, PNG, WebP
and HEIC/HEIF, turns the picture upright from its EXIF orientation, reads capture
time and GPS from the EXIF for review, and re-encodes a JPEG that carries no metadata
at all (no EXIF, GPS, XMP, ICC profile or comment), plus a small thumbnail and a
difference hash of the upright picture (`difference_hash`), which stays the same when
a photo is re-saved or resized, so a reused photo is found whatever was done to it.
"""

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import pillow_heif
from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

pillow_heif.register_heif_opener()

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
HEIC = "image/heic"
HEIF = "image/heif"
IMAGE_TYPES = (JPEG, PNG, WEBP, HEIC, HEIF)

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
# Refuse to decode anything larger: a 48 MP phone photo passes, a crafted
# "decompression bomb" (a tiny file that expands to gigabytes) does not.
MAX_PIXELS = 64_000_000

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
        return None  # AVIF: the installed decoder has no AV1 support
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


def process_image(
    data: bytes, *, max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE
) -> ProcessedImage:
    """Decodes a JPEG, PNG, WebP or HEIC/HEIF photo and returns it upright, re-encoded
    without metadata, with its thumbnail and what its EXIF said about time and place.
    Raises ImageTooLarge or UnreadableImage (both ValueError) with a plain message."""
    # WeasyPrint (the PDF reports) turns this on for the whole process when it is
    # imported; a half-received upload must still be refused as damaged.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageTooLarge("The image has too many pixels to process safely.") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise UnreadableImage("The file is not an image that can be read.") from error
    with image:
        limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
        if image.width * image.height > limit:
            raise ImageTooLarge(
                f"The image has {image.width} x {image.height} pixels; "
                f"at most {limit} pixels can be processed."
            )
        try:
            exif = image.getexif()
            taken_at, gps = _capture_time(exif), _gps(exif)
        except Exception:  # broken EXIF (any of a dozen errors) never stops the photo itself
            taken_at, gps = None, None
        try:
            upright = _decode_upright(image, max_side)
        except (OSError, ValueError, SyntaxError, EOFError) as error:
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


def _decode_upright(image: Image.Image, max_side: int) -> Image.Image:
    """The pixels in sRGB, turned by the EXIF orientation, scaled to max_side, with
    every piece of metadata left behind."""
    if image.format == "JPEG" and max(image.size) > 2 * max_side:
        image.draft("RGB", (max_side, max_side))  # decode big JPEGs at 1/2, 1/4 or 1/8
    image.load()
    icc = image.info.get("icc_profile")
    picture = ImageOps.exif_transpose(image)  # a copy; the orientation tag is now applied
    picture = _flatten(picture)
    if icc:
        picture = _to_srgb(picture, icc)
    if max(picture.size) > max_side:
        picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    clean = Image.new("RGB", picture.size)  # a fresh image: no info, EXIF, XMP or ICC
    clean.paste(picture)
    return clean


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


# --- what the EXIF said ---------------------------------------------------------------


def _capture_time(exif: Image.Exif) -> datetime | None:
    details = exif.get_ifd(ExifTags.IFD.Exif)
    pairs = (
        (ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal),
        (ExifTags.Base.DateTimeDigitized, ExifTags.Base.OffsetTimeDigitized),
    )
    for stamp_tag, offset_tag in pairs:
        moment = _exif_datetime(details.get(stamp_tag), details.get(offset_tag))
        if moment is not None:
            return moment
    return None


def _exif_datetime(stamp: Any, offset: Any) -> datetime | None:
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.strptime(stamp.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # "0000:00:00 00:00:00" and other placeholders
    zone = _exif_offset(offset)
    return moment if zone is None else moment.replace(tzinfo=zone).astimezone(UTC)


def _exif_offset(offset: Any) -> timezone | None:
    """EXIF offsets look like "+08:00" or "-05:30"."""
    if not isinstance(offset, str):
        return None
    text = offset.strip("\x00 ")
    if len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def _gps(exif: Image.Exif) -> tuple[Decimal, Decimal] | None:
    info = exif.get_ifd(ExifTags.IFD.GPSInfo)
    latitude = _degrees(info.get(ExifTags.GPS.GPSLatitude), info.get(ExifTags.GPS.GPSLatitudeRef))
    longitude = _degrees(
        info.get(ExifTags.GPS.GPSLongitude), info.get(ExifTags.GPS.GPSLongitudeRef)
    )
    if latitude is None or longitude is None:
        return None
    if abs(latitude) > 90 or abs(longitude) > 180:
        return None
    if latitude == 0 and longitude == 0:
        return None  # cameras write 0/0 when they had no fix
    return latitude, longitude


def _degrees(value: Any, ref: Any) -> Decimal | None:
    """Degrees, minutes, seconds (EXIF rationals) to signed decimal degrees."""
    try:
        degrees, minutes, seconds = (Decimal(str(float(part))) for part in value)
    except (TypeError, ValueError, InvalidOperation, ZeroDivisionError):
        return None
    total = degrees + minutes / 60 + seconds / 3600
    if not total.is_finite():
        return None
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if isinstance(ref, str) and ref.strip("\x00 ").upper() in ("S", "W"):
        total = -total
    return total.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
