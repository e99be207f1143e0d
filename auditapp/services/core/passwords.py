"""Password hashing with argon2id."""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _stand_in_hash() -> str:
    return _hasher.hash("stands in for an account without a password")


def verify_password(stored_hash: str, password: str) -> bool:
    """An empty hash (no account, or no password chosen yet) is never a match, but
    costs the same hashing, so the answer's timing cannot tell which accounts exist."""
    try:
        if not stored_hash:
            _hasher.verify(_stand_in_hash(), password)
            return False
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
