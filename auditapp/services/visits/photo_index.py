"""Near-duplicate photos: the stored photos of a client whose difference hash lies
within a few bits of a given one.

The rule: a photo's ``dhash`` (media.difference_hash: 64 bits as 16 hex digits) moves
by a few bits when the picture is resized, re-compressed, brightened or slightly
cropped, while two different scenes differ in about half of the 64. Two photos are
*similar* when their hashes differ in at most ``max_distance`` bits (Hamming
distance), by default SIMILAR_DISTANCE, set by the app config
``INTEGRITY_SIMILAR_PHOTO_DISTANCE`` (0 to 15). Only photos of the same client are
compared. A hash whose bits are all equal (a blank or evenly shaded picture) says
nothing about the scene: it is neither indexed nor looked up, and never a match.

How it stays fast at a million photos (multi-index hashing): each photo's hash is
stored as four 16-bit bands in ``photo_hash_band``, band b holding bits
``(hash >> 16 * (3 - b)) & 0xFFFF``, indexed on (client_id, band, value) with the
photo's id and whole hash in the index too, so candidates come from the index alone.
Pigeonhole: the four band distances add up to the whole distance, so if two hashes
differ in at most d bits, at least one band differs in at most r = d // 4 bits. A
lookup therefore lists, for each band, every 16-bit value within r bits of the
query's band (1 + 16 = 17 values for d <= 7, 137 for d <= 11, 697 for d <= 15) and
reads the photos holding one of them in that band: a superset of the answer, so no
photo within d is missed. The exact distance over the full hashes then keeps those
within d, and a second query reads their visits. With hashes spread evenly, a band
value is held by one photo in 65,536: at a million photos and d = 6 that is about
4 x 17 x 15 = 1,000 candidates, read in one query through the index
(bench/photo_index.py measures it).
"""

from collections.abc import Iterable, Mapping
from itertools import combinations
from typing import NamedTuple

from flask import current_app
from sqlalchemy import select, union_all

from ...extensions import db
from ...models.answers import Evidence, PhotoHashBand

__all__ = [
    "SIMILAR_DISTANCE",
    "Similar",
    "band_values",
    "distance",
    "index_photo",
    "informative",
    "similar_for_each",
    "similar_photos",
]

SIMILAR_DISTANCE = 6
MAX_DISTANCE = 15  # beyond it a lookup would read thousands of values per band
BANDS = 4
BAND_BITS = 16
LIMIT = 20
MAX_BAND_VALUES = 2000  # per band and query: 4 x 2,000 bind parameters at most
_BLANK_HASHES = frozenset({"0" * 16, "f" * 16})
_ALL_BITS = (1 << 64) - 1
_BLANK_SIGNED = frozenset({0, -1})  # the blank hashes as photo_hash_band stores them


class Similar(NamedTuple):
    evidence_id: int
    visit_id: int
    distance: int


def informative(dhash: str | None) -> bool:
    """A hash that tells pictures apart (not the hash of a blank or flat picture)."""
    return bool(dhash) and dhash not in _BLANK_HASHES


def distance(a: str, b: str) -> int:
    """Hamming distance between two hashes in hex: the number of bits that differ."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def band_values(dhash: str) -> list[int]:
    """The four 16-bit bands of a hash, highest bits first."""
    value = int(dhash, 16)
    return [(value >> (BAND_BITS * (BANDS - 1 - b))) & 0xFFFF for b in range(BANDS)]


def signed(dhash: str) -> int:
    """The hash as the signed 64-bit integer ``photo_hash_band.dhash`` stores."""
    value = int(dhash, 16)
    return value - (1 << 64) if value >= 1 << 63 else value


def configured_distance() -> int:
    return int(current_app.config.get("INTEGRITY_SIMILAR_PHOTO_DISTANCE", SIMILAR_DISTANCE))


def index_photo(evidence: Evidence, client_id: int) -> None:
    """Adds the photo's four bands to the index (the row must have its id); nothing for
    a file without an informative hash. The caller commits."""
    if not informative(evidence.dhash):
        return
    assert evidence.dhash is not None and evidence.id is not None
    whole = signed(evidence.dhash)
    db.session.add_all(
        PhotoHashBand(
            evidence_id=evidence.id, band=band, client_id=client_id, value=value, dhash=whole
        )
        for band, value in enumerate(band_values(evidence.dhash))
    )


def similar_photos(
    dhash: str,
    client_id: int,
    max_distance: int | None = None,
    exclude_visit_id: int | None = None,
    before_id: int | None = None,
    limit: int = LIMIT,
) -> list[Similar]:
    """The client's photos within ``max_distance`` bits of ``dhash`` (default: the
    configured distance), nearest first, then by id; at most ``limit``. Leaves out the
    photos of ``exclude_visit_id`` and, with ``before_id``, photos stored after it."""
    if not informative(dhash):
        return []
    most = _checked(max_distance)
    candidates = _candidates([dhash], client_id, most, before_id)
    close = _within(dhash, candidates, most, before_id)
    visits = _visits_of(close, exclude_visit_id)
    return _nearest(close, visits, limit)


def similar_for_each(
    photos: Mapping[int, str],
    client_id: int,
    max_distance: int | None = None,
    exclude_visit_id: int | None = None,
    limit: int = LIMIT,
) -> dict[int, list[Similar]]:
    """{evidence id: the EARLIER photos (lower ids) within ``max_distance`` of its
    hash}, as similar_photos gives them, for several photos at once (a query for the
    candidates, one for the matches' visits, more only when they are many). Photos
    with an uninformative hash are left out."""
    wanted = {eid: dhash for eid, dhash in photos.items() if informative(dhash)}
    if not wanted:
        return {}
    most = _checked(max_distance)
    # Bounded bind parameters (SQLite allows 32,766): at most MAX_BAND_VALUES band values
    # a query, so a visit of many photos at a large distance takes a few queries.
    per_photo = len(_neighbours(0, most // BANDS))
    hashes = list(wanted.values())
    step = max(1, MAX_BAND_VALUES // per_photo)
    candidates: dict[int, int] = {}
    for start in range(0, len(hashes), step):
        chunk = hashes[start : start + step]
        candidates |= _candidates(chunk, client_id, most, before_id=max(wanted))
    close = {eid: _within(dhash, candidates, most, eid) for eid, dhash in wanted.items()}
    visits = _visits_of(
        {k: v for found in close.values() for k, v in found.items()}, exclude_visit_id
    )
    return {eid: _nearest(found, visits, limit) for eid, found in close.items()}


def _candidates(
    dhashes: Iterable[str], client_id: int, most: int, before_id: int | None
) -> dict[int, int]:
    """{evidence id: its hash (signed)} of every photo sharing a band value within
    r = most // 4 bits of a query's band: read from the covering index alone."""
    radius = most // BANDS
    wanted: list[set[int]] = [set() for _ in range(BANDS)]
    for dhash in dhashes:
        for band, value in enumerate(band_values(dhash)):
            wanted[band].update(_neighbours(value, radius))
    # One indexed range of (client_id, band, value) per band; a UNION ALL keeps each
    # branch on the index (an OR across bands is planned worse by SQLite).
    branches = []
    for band, values in enumerate(wanted):
        branch = select(PhotoHashBand.evidence_id, PhotoHashBand.dhash).where(
            PhotoHashBand.client_id == client_id,
            PhotoHashBand.band == band,
            PhotoHashBand.value.in_(sorted(values)),
        )
        if before_id is not None:
            branch = branch.where(PhotoHashBand.evidence_id < before_id)
        branches.append(branch)
    # A near photo may share several bands: the dict keeps it once.
    return {row[0]: row[1] for row in db.session.execute(union_all(*branches))}


def _within(
    dhash: str, candidates: Mapping[int, int], most: int, before_id: int | None
) -> dict[int, int]:
    """{evidence id: distance} of the candidates within ``most`` bits (and below
    ``before_id``)."""
    query = signed(dhash)
    return {
        eid: bits
        for eid, other in candidates.items()
        if (before_id is None or eid < before_id)
        and other not in _BLANK_SIGNED  # never indexed by the app; never a match either
        and (bits := ((query ^ other) & _ALL_BITS).bit_count()) <= most
    }


def _visits_of(close: Mapping[int, int], exclude_visit_id: int | None) -> dict[int, int]:
    """{evidence id: visit id} of these photos, without those of ``exclude_visit_id``;
    read MAX_BAND_VALUES at a time (many dark night shots can all be near each other)."""
    ids = sorted(close)
    found: dict[int, int] = {}
    for start in range(0, len(ids), MAX_BAND_VALUES):
        chunk = ids[start : start + MAX_BAND_VALUES]
        query = select(Evidence.id, Evidence.visit_id).where(Evidence.id.in_(chunk))
        if exclude_visit_id is not None:
            query = query.where(Evidence.visit_id != exclude_visit_id)
        found |= {row[0]: row[1] for row in db.session.execute(query)}
    return found


def _nearest(close: Mapping[int, int], visits: Mapping[int, int], limit: int) -> list[Similar]:
    found = [Similar(eid, visits[eid], bits) for eid, bits in close.items() if eid in visits]
    found.sort(key=lambda s: (s.distance, s.evidence_id))
    return found[:limit]


def _checked(max_distance: int | None) -> int:
    most = configured_distance() if max_distance is None else max_distance
    if not 0 <= most <= MAX_DISTANCE:
        raise ValueError(f"a similar-photo distance must lie in 0..{MAX_DISTANCE}, not {most}")
    return most


def _neighbours(value: int, radius: int) -> list[int]:
    """Every 16-bit value within ``radius`` bits of ``value``."""
    found = [value]
    for flips in range(1, radius + 1):
        for bits in combinations(range(BAND_BITS), flips):
            mask = 0
            for bit in bits:
                mask |= 1 << bit
            found.append(value ^ mask)
    return found
