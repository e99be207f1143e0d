"""Configuration defaults. Overridden, in order, by instance/config.py,
AUDITAPP_* environment variables and the test mapping given to create_app.

The site's address and the hosts it answers to:

- ``BASE_URL`` (``AUDITAPP_BASE_URL``): the address people reach the site at, such as
  ``https://audit.example.com``. Every link in mail (password resets, invitations,
  visit notices, alerts and digests) is built from it, never from the request's Host
  header, which the sender of the request chooses. Defaults to the development
  address ``http://127.0.0.1:5000``.
- ``TRUSTED_HOSTS`` (Flask's): requests for any other host are refused with 400.
  Left unset, it is derived when the app runs with production settings (neither
  DEBUG nor TESTING): BASE_URL's host plus ``EXTRA_HOSTS``. So ``make run`` on
  127.0.0.1 works as is; a deployment sets BASE_URL to its public address.
- ``EXTRA_HOSTS`` (``AUDITAPP_EXTRA_HOSTS``): other host names the site may be
  reached at, as a list or comma-separated (``localhost,audit.internal``); a name
  starting with a dot accepts its subdomains.

Rate limits on the password-reset form are counted by Flask-Limiter, per client
network (an IPv6 client by its /64, see auditapp/networks.py): in memory by
default (per app process), in Redis when ``RATELIMIT_STORAGE_URI``
(``AUDITAPP_RATELIMIT_STORAGE_URI``) or else ``REDIS_URL`` is set, so that several
app machines share the counts.
"""

from datetime import timedelta

LANGUAGES = {"en": "English", "zh_Hans": "简体中文"}


class Defaults:
    SQLALCHEMY_DATABASE_URI = ""  # filled in by create_app: SQLite in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {"pool_pre_ping": True}
    # How long a SQLite writer waits for another to finish before giving up; writers
    # take turns (db_setup.py), so this bounds the queue, not a single write.
    SQLITE_BUSY_TIMEOUT_SECONDS = 30
    SECRET_KEY = ""  # generated into instance/secret_key when not configured

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    # A request body that makes no progress this long ends with 408 (slow_clients.py).
    BODY_READ_TIMEOUT_SECONDS = 20
    IMPORT_MAX_BYTES = 5 * 1024 * 1024
    # The import's confirm step carries the file back base64-encoded (4/3 larger).
    MAX_FORM_MEMORY_SIZE = 8 * 1024 * 1024
    EVIDENCE_MAX_BYTES = 15 * 1024 * 1024  # per photo, receipt or recording
    PER_PAGE = 25

    BASE_URL = "http://127.0.0.1:5000"  # see the module docstring
    EXTRA_HOSTS: list[str] | str = []

    # Sign-in throttling (services/core/login_throttle.py): never a lock-out, a growing wait.
    # "Address" here is the client's network: the IPv4 address, or an IPv6 /64.
    LOGIN_FREE_FAILURES = 3  # per e-mail and address within LOGIN_THROTTLE_WINDOW
    LOGIN_ACCOUNT_FREE_FAILURES = 20  # per e-mail from addresses it did not sign in from
    LOGIN_FIRST_DELAY = timedelta(seconds=2)  # then doubling with each further failure
    LOGIN_MAX_DELAY = timedelta(minutes=15)
    LOGIN_THROTTLE_WINDOW = timedelta(hours=1)
    LOGIN_IP_MAX_FAILURES = 30  # per address, whatever the account, within LOGIN_IP_WINDOW
    LOGIN_IP_WINDOW = timedelta(minutes=15)
    # An e-mail that signed in from an address this recently is exempt there from
    # LOGIN_IP_MAX_FAILURES and LOGIN_ACCOUNT_FREE_FAILURES, so a noisy shared address
    # (carrier NAT, a client's head office) cannot shut out the people who work there.
    LOGIN_KNOWN_NETWORK_AGE = timedelta(days=90)

    PASSWORD_RESET_MAX_AGE = timedelta(hours=2)
    INVITATION_MAX_AGE = timedelta(days=14)
    # Reset requests: per client address (a 429) and per address typed in (past it no
    # mail goes out, but the answer is the usual one, so a stranger cannot get the owner
    # refused), both counted by Flask-Limiter; and reset mails per account, counted in
    # the database so the cap holds across app machines.
    RESET_REQUEST_LIMIT_PER_CLIENT = "5 per minute;20 per hour"
    RESET_REQUEST_LIMIT_PER_EMAIL = "5 per hour"
    RESET_MAILS_PER_HOUR = 3
    RATELIMIT_STORAGE_URI = ""  # empty: REDIS_URL when set, else memory
    RATELIMIT_KEY_PREFIX = "auditapp"
    RATELIMIT_HEADERS_ENABLED = True  # Retry-After on a 429
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # Redis down: count in memory meanwhile

    STORE_STALE_AFTER_DAYS = 180
    MAIL_SENDER = "auditapp <no-reply@auditapp.local>"
    MAIL_BACKEND = "outbox"  # "outbox" keeps mail in the database (development)
    REDIS_URL = ""  # when set, background jobs go to RQ workers
    JOBS_MODE = ""  # "rq", "thread" or "inline"; empty chooses rq with Redis, else thread
    JOBS_RELAY_SECONDS = 60  # how often the worker queues mail whose job was lost (worker.py)
    # RQ kills a job after this long (its own default, 180 s, is shorter than a batch
    # part of a few hundred PDF scorecards on a busy worker).
    JOB_TIMEOUT_SECONDS = 3600
    MAIL_SERVER = ""
    MAIL_PORT = 587
    MAIL_USE_TLS = True
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    PROXY_HOPS = 0  # reverse proxies in front of the app whose X-Forwarded-* we trust

    # Review and quality control.
    REVIEW_DEADLINE_HOURS = 48  # a submitted visit should be reviewed within this time
    INTEGRITY_MAX_DISTANCE_M = 300  # check-in farther than this from the store is flagged
    INTEGRITY_MAX_ACCURACY_M = 150  # a check-in location vaguer than this is flagged
    INTEGRITY_WINDOW_GRACE_MINUTES = 15  # check-in this early or late still counts
    INTEGRITY_PHOTO_GRACE_MINUTES = 30  # photos taken this long around the visit count
    INTEGRITY_SIMILAR_PHOTO_DISTANCE = 6  # bits (of 64, at most 15) from an earlier photo: a copy
    CALIBRATION_WARN_POINTS = 8  # leniency beyond ± this many points is worth a look
    CALIBRATION_MIN_COMPARISONS = 3  # fewer comparisons than this prove nothing yet

    # Alerts and mail delivery.
    MAIL_MAX_ATTEMPTS = 5  # a message that failed this often waits for an admin
    DIGEST_HOUR_UTC = 0  # the daily digest covers alerts raised before this hour
