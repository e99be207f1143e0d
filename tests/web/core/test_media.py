"""auditapp.media: what bytes really are, and phone photos made upright and anonymous."""

import io
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile, JpegImagePlugin
from PIL.TiffImagePlugin import IFDRational

from auditapp import media
from tests.web import evidence_images as pics
from tests.web.evidence_images import scene

# AVIF is taken where the installed Pillow reads it (the pinned wheel does).
AVIF_OR_NONE = media.AVIF if media.AVIF_READABLE else None


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00" * 32


SNIFFED = [
    ("jpeg", lambda: pics.sideways_jpeg(), media.JPEG),
    ("png", lambda: pics.png(), media.PNG),
    ("webp", lambda: pics.webp(), media.WEBP),
    ("heic", lambda: pics.heic(), media.HEIC),
    ("heif_generic", lambda: _ftyp(b"mif1", b"mif1", b"heic"), media.HEIC),
    ("heif_plain", lambda: _ftyp(b"mif1", b"mif1", b"miaf"), media.HEIF),
    ("avif", lambda: _ftyp(b"avif", b"mif1", b"miaf"), AVIF_OR_NONE),
    ("avif_as_mif1", lambda: _ftyp(b"mif1", b"mif1", b"avif"), AVIF_OR_NONE),
    ("m4a", lambda: _ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), media.M4A),
    ("mp4_recorder", lambda: _ftyp(b"iso5", b"iso5", b"isom", b"mp41"), media.MP4),
    ("mp3_id3", lambda: b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 40, media.MP3),
    ("mp3_frame", lambda: b"\xff\xfb\x90\x64" + b"\x00" * 60, media.MP3),
    ("ogg", lambda: b"OggS\x00\x02" + b"\x00" * 40, media.OGG),
    (
        "webm",
        lambda: b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\x00" * 20,
        media.WEBM,
    ),
    ("wav", lambda: b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40, media.WAV),
    ("text", lambda: b"This is not a photo, just some text.\n", None),
    ("pdf", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", None),
    ("html", lambda: b"<!doctype html><svg onload=alert(1)>", None),
    ("empty", lambda: b"", None),
    ("aac_adts_is_not_mp3", lambda: b"\xff\xf1\x50\x80" + b"\x00" * 60, None),
    ("broken_ftyp", lambda: b"\x00\x00\xff\xffftypheic" + b"\x00" * 8, None),
]


@pytest.mark.parametrize(
    ("make", "expected"), [p[1:] for p in SNIFFED], ids=[p[0] for p in SNIFFED]
)
def test_sniff_reads_the_bytes(make, expected):
    assert media.sniff(make()) == expected


def test_sideways_jpeg_is_turned_upright():
    result = media.process_image(pics.sideways_jpeg(size=(40, 20)))
    assert (result.width, result.height) == (20, 40)
    # Orientation 6 turns the picture clockwise: its left (red) half ends up on top.
    assert pics.colour_at(result.image_bytes, (10, 5)) == "red"
    assert pics.colour_at(result.image_bytes, (10, 35)) == "blue"


def test_exif_time_and_place_are_read_for_review():
    result = media.process_image(pics.sideways_jpeg(offset="+08:00"))
    assert result.taken_at == datetime(2025, 3, 4, 2, 15, 30, tzinfo=UTC)
    assert result.gps == pics.SHANGHAI


def test_capture_time_without_an_offset_stays_naive_local_time():
    result = media.process_image(pics.sideways_jpeg(offset=None))
    assert result.taken_at == datetime(2025, 3, 4, 10, 15, 30)
    assert result.taken_at.tzinfo is None


def test_southern_and_western_coordinates_are_negative():
    gps = {1: "S", 2: (33.0, 52.0, 4.0), 3: "W", 4: (70.0, 40.0, 0.0)}
    result = media.process_image(pics.sideways_jpeg(gps=gps))
    assert result.gps == (Decimal("-33.867778"), Decimal("-70.666667"))


@pytest.mark.parametrize(
    "gps",
    [
        {1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)},  # no fix
        {1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)},  # impossible
        {1: "N", 2: (31.0, 13.0, 48.0)},  # latitude only
        {1: "N", 2: (IFDRational(31, 0), IFDRational(0, 0), 0.0), 3: "E", 4: (121.0, 0.0, 0.0)},
    ],
    ids=["null_island", "out_of_range", "half", "zero_denominators"],
)
def test_missing_or_nonsense_gps_gives_none(gps):
    assert media.process_image(pics.sideways_jpeg(gps=gps)).gps is None


@pytest.mark.parametrize(
    "taken",
    ["0000:00:00 00:00:00", "yesterday", None, "0001:01:01 00:00:00", "9999:12:31 23:59:59",
     "1989:12:31 23:59:59", "2101:01:01 00:00:00"],
)  # fmt: skip
@pytest.mark.parametrize("offset", [None, "+08:00"])
def test_placeholder_and_implausible_capture_times_give_none(taken, offset):
    result = media.process_image(pics.sideways_jpeg(taken=taken, offset=offset))
    assert result.taken_at is None
    assert result.gps == pics.SHANGHAI


def test_capture_times_at_the_ends_of_the_plausible_years_are_kept():
    first = media.process_image(pics.sideways_jpeg(taken="1990:01:01 00:00:00", offset=None))
    last = media.process_image(pics.sideways_jpeg(taken="2100:12:31 23:59:59", offset=None))
    assert (first.taken_at, last.taken_at) == (
        datetime(1990, 1, 1), datetime(2100, 12, 31, 23, 59, 59)
    )  # fmt: skip


def test_a_capture_time_that_cannot_be_read_keeps_the_gps(monkeypatch):
    def unreadable(exif):
        raise ValueError("a broken Exif IFD")

    monkeypatch.setattr(media.photo_exif, "capture_time", unreadable)
    result = media.process_image(pics.sideways_jpeg())
    assert result.taken_at is None
    assert result.gps == pics.SHANGHAI


def test_stored_jpeg_carries_no_metadata_at_all():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret place</x:xmpmeta>'
    original = pics.sideways_jpeg(icc_profile=icc, xmp=xmp, comment=b"shopper: Li Wei")
    result = media.process_image(original)
    for data in (result.image_bytes, result.thumb_bytes):
        with Image.open(io.BytesIO(data)) as stored:
            assert stored.format == "JPEG"
            assert not stored.getexif()
            assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
            assert not {"exif", "icc_profile", "xmp", "comment"} & stored.info.keys()
        assert b"Exif\x00\x00" not in data
        assert b"secret place" not in data
        assert b"Li Wei" not in data


def test_thumbnail_longest_side_is_320():
    result = media.process_image(pics.png(size=(1000, 600)))
    with Image.open(io.BytesIO(result.thumb_bytes)) as thumb:
        assert thumb.size == (320, 192)
    assert (result.width, result.height) == (1000, 600)


def test_small_pictures_keep_their_size_in_the_thumbnail():
    result = media.process_image(pics.png(size=(40, 20)))
    with Image.open(io.BytesIO(result.thumb_bytes)) as thumb:
        assert thumb.size == (40, 20)


def test_very_large_photos_are_scaled_down_to_the_longest_side():
    result = media.process_image(pics.sideways_jpeg(size=(900, 300)), max_side=200)
    assert (result.width, result.height) == (67, 200)


def test_heic_from_an_iphone_is_decoded_upright_with_its_gps():
    exif = pics.exif_block(orientation=6, gps=pics.SHANGHAI_DMS, taken="2025:03:04 10:15:30")
    result = media.process_image(pics.heic(size=(40, 20), exif=exif))
    assert (result.width, result.height) == (20, 40)
    assert pics.colour_at(result.image_bytes, (10, 5)) == "red"
    assert result.gps == pics.SHANGHAI
    assert result.taken_at == datetime(2025, 3, 4, 10, 15, 30)
    with Image.open(io.BytesIO(result.image_bytes)) as stored:
        assert stored.format == "JPEG"
        assert not stored.getexif()


def test_webp_is_decoded():
    result = media.process_image(pics.webp(size=(40, 20)))
    assert (result.width, result.height) == (40, 20)
    assert result.gps is None and result.taken_at is None


def test_transparent_png_gets_a_white_background():
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    result = media.process_image(pics.encode(image, "PNG"))
    with Image.open(io.BytesIO(result.image_bytes)) as stored:
        assert min(stored.getpixel((5, 5))) > 240


def test_palette_and_greyscale_pictures_are_stored_as_rgb():
    for mode in ("P", "L", "CMYK"):
        image = pics.halves((20, 10)).convert(mode)
        fmt = "JPEG" if mode == "CMYK" else "PNG"
        result = media.process_image(pics.encode(image, fmt))
        with Image.open(io.BytesIO(result.image_bytes)) as stored:
            assert stored.mode == "RGB", mode


def test_text_is_not_an_image():
    with pytest.raises(media.UnreadableImage, match="not an image"):
        media.process_image(b"Just some text, renamed to photo.jpg\n")


def test_truncated_jpeg_is_reported_as_damaged():
    noisy = Image.effect_noise((400, 400), 80).convert("RGB")
    data = pics.encode(noisy, "JPEG", quality=95)
    with pytest.raises(media.UnreadableImage, match="damaged"):
        media.process_image(data[: len(data) // 2])


def test_a_truncated_jpeg_is_refused_even_after_weasyprint_was_loaded(monkeypatch):
    """WeasyPrint switches on Pillow's LOAD_TRUNCATED_IMAGES for the whole process."""
    import weasyprint  # noqa: F401
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = pics.encode(Image.effect_noise((400, 400), 80).convert("RGB"), "JPEG", quality=95)
    with pytest.raises(media.UnreadableImage, match="damaged"):
        media.process_image(data[: len(data) // 2])


def test_too_many_pixels_are_refused_before_decoding():
    with pytest.raises(media.ImageTooLarge, match="pixels"):
        media.process_image(pics.png(size=(100, 100)), max_pixels=5_000)


def test_decompression_bombs_are_refused(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(media.ImageTooLarge):
        media.process_image(pics.png(size=(40, 20)))  # 800 px: over twice Pillow's limit
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)
    with pytest.raises(media.ImageTooLarge):
        media.process_image(pics.png(size=(40, 20)))  # a warning only; refused all the same


def test_errors_are_value_errors_for_callers_that_do_not_care_which():
    assert issubclass(media.ImageTooLarge, ValueError)
    assert issubclass(media.UnreadableImage, ValueError)


# --- hostile and unusual pictures -------------------------------------------------------


@pytest.fixture
def no_decoding(monkeypatch):
    """Fails the test if any picture is decoded."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("a picture was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_a_64_megapixel_png_is_refused_from_its_header_without_decoding(no_decoding):
    """7999 x 7999 RGBA: 250 KB that took 16 s and 780 MB to decode."""
    bomb = pics.png_header(7999, 7999)
    with pytest.raises(media.ImageTooLarge, match="7999 x 7999"):
        media.check_header(bomb)
    with pytest.raises(media.ImageTooLarge):
        media.process_image(bomb)


@pytest.mark.parametrize("size", [(8064, 6048), (8160, 6144), (6144, 8192)])
def test_the_largest_phone_photos_pass_the_header_check(no_decoding, size):
    assert media.check_header(pics.png_header(*size)) == size


def test_a_big_jpeg_is_decoded_at_a_fraction_of_its_size(monkeypatch):
    """Draft mode: the JPEG decoder scales by 1/2, 1/4 or 1/8 while it reads."""
    decoded = []
    draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = draft(self, mode, size)
        decoded.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    result = media.process_image(pics.encode(pics.halves((1600, 1200)), "JPEG"), max_side=400)
    assert decoded == [(400, 300)]  # a sixteenth of the pixels, not 1600 x 1200
    assert (result.width, result.height) == (400, 300)
    assert pics.colour_at(result.image_bytes, (50, 150)) == "red"


def test_a_sixteen_bit_greyscale_png_keeps_its_shades():
    """Mode I;16: converted naively, every value above 255 turns white."""
    dark, light = Image.new("I;16", (20, 20), 16384), Image.new("I;16", (20, 20), 49152)
    picture = Image.new("I;16", (40, 20))
    picture.paste(dark, (0, 0))
    picture.paste(light, (20, 0))
    result = media.process_image(pics.encode(picture, "PNG"))
    with Image.open(io.BytesIO(result.image_bytes)) as stored:
        grey = stored.convert("L")
        assert 55 <= grey.getpixel((5, 10)) <= 72  # a quarter of full scale
        assert 183 <= grey.getpixel((35, 10)) <= 200  # three quarters


def _tiny_boxes(count: int) -> bytes:
    """A HEIC file type box followed by empty 8-byte boxes: `count` boxes in all."""
    body = b"heic" + b"\x00\x00\x00\x00" + b"mif1heic"
    head = (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body
    return head + ((8).to_bytes(4, "big") + b"free") * (count - 1)


def test_a_heic_of_countless_tiny_boxes_is_refused_at_once():
    data = _tiny_boxes(2_000_000)  # 16 MB: two million boxes to walk
    assert media.sniff(data) == media.HEIC
    started = time.perf_counter()
    with pytest.raises(media.UnreadableImage):
        media.check_header(data)
    assert time.perf_counter() - started < 1.0  # generous: the walk stops at MAX_BOXES


def test_at_most_max_boxes_top_level_boxes_are_walked():
    assert media._boxes_complete(_tiny_boxes(media.MAX_BOXES))
    assert not media._boxes_complete(_tiny_boxes(media.MAX_BOXES + 1))


def test_a_truncated_tiled_heic_is_refused():
    """iPhones write HEIC as a grid of tiles; libheif fills missing ones in silently."""
    data = pics.heic(picture=pics.noise((1024, 768)), tile_size=512)
    assert media.process_image(data).width == 1024  # whole, it is fine
    for fraction in (0.4, 0.7, 0.95):
        with pytest.raises(media.UnreadableImage, match="damaged"):
            media.process_image(data[: int(len(data) * fraction)])
        with pytest.raises(media.UnreadableImage):
            media.check_header(data[: int(len(data) * fraction)])


@pytest.mark.parametrize("declared", [(16, 16), (1280, 960)])
def test_a_heic_whose_header_disagrees_with_its_pixels_is_refused(declared):
    data = pics.heic(picture=pics.noise((640, 480)))
    at = data.index(b"ispe") + 8  # the declared width and height follow version and flags
    size = declared[0].to_bytes(4, "big") + declared[1].to_bytes(4, "big")
    with pytest.raises(media.UnreadableImage, match="damaged"):
        media.process_image(data[:at] + size + data[at + 8 :])


def _avif(**kw):
    if not media.AVIF_READABLE:
        pytest.skip("the installed Pillow reads no AVIF, so the app does not take it")
    try:
        return pics.avif(**kw)
    except (KeyError, OSError) as error:
        pytest.skip(f"the installed Pillow reads AVIF but cannot write it: {error}")


def test_avif_is_recognised_by_its_content_and_decoded():
    data = _avif(size=(40, 20))
    assert media.sniff(data) == media.AVIF
    result = media.process_image(data)
    assert (result.width, result.height) == (40, 20)
    assert pics.colour_at(result.image_bytes, (5, 10)) == "red"
    assert pics.colour_at(result.image_bytes, (35, 10)) == "blue"


def test_a_truncated_avif_is_refused():
    data = _avif(picture=pics.noise((320, 240)))
    for fraction in (0.5, 0.9):
        with pytest.raises(media.UnreadableImage):
            media.process_image(data[: int(len(data) * fraction)])


# --- the difference hash ----------------------------------------------------------------


def _dhash_of(image: Image.Image, fmt: str = "JPEG", **save: object) -> str:
    return media.process_image(pics.encode(image, fmt, **save)).dhash


def test_dhash_is_sixteen_lowercase_hex_digits():
    value = _dhash_of(scene(1), quality=90)
    assert len(value) == 16 and set(value) <= set("0123456789abcdef")
    assert value == media.difference_hash(scene(1))


@pytest.mark.parametrize("quality", [95, 60, 25])
def test_dhash_is_the_same_at_another_jpeg_quality(quality):
    assert _dhash_of(scene(7), quality=quality) == _dhash_of(scene(7), quality=90)


@pytest.mark.parametrize("size", [(180, 120), (133, 89), (1000, 667)])
def test_dhash_is_the_same_for_a_resized_copy(size):
    resized = scene(7).resize(size, Image.Resampling.LANCZOS)
    assert _dhash_of(resized, quality=80) == _dhash_of(scene(7), quality=90)


def test_dhash_is_the_same_in_another_format():
    assert _dhash_of(scene(7), "PNG") == _dhash_of(scene(7), "WEBP", quality=80)


def test_dhash_is_taken_after_the_exif_orientation():
    upright = scene(3, size=(240, 360))
    # The sensor's pixels lie on their side; Orientation 6 says "turn 90° clockwise".
    sideways = pics.encode(
        upright.rotate(90, expand=True), "JPEG", quality=95, exif=pics.exif_block(orientation=6)
    )
    assert media.process_image(sideways).dhash == _dhash_of(upright, quality=95)
    assert media.difference_hash(upright.rotate(90, expand=True)) != media.difference_hash(upright)


def test_a_different_picture_has_a_different_dhash():
    hashes = {_dhash_of(scene(seed), quality=90) for seed in range(20)}
    assert len(hashes) == 20
    assert _dhash_of(scene(7).transpose(Image.Transpose.FLIP_LEFT_RIGHT)) != _dhash_of(scene(7))


def test_a_blank_picture_has_the_all_zero_dhash():
    assert media.difference_hash(Image.new("RGB", (50, 40), (200, 200, 200))) == "0" * 16
