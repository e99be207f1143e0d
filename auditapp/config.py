"""Configuration defaults. Overridden, in order, by instance/config.py,
AUDITAPP_* environment variables and the test mapping given to create_app."""

from datetime import timedelta

LANGUAGES = {"en": "English", "zh_Hans": "简体中文"}


class Defaults:
    SQLALCHEMY_DATABASE_URI = ""  # filled in by create_app: SQLite in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {"pool_pre_ping": True}
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
    IMPORT_MAX_BYTES = 5 * 1024 * 1024
    # The import's confirm step carries the file back base64-encoded (4/3 larger).
    MAX_FORM_MEMORY_SIZE = 8 * 1024 * 1024
    EVIDENCE_MAX_BYTES = 15 * 1024 * 1024  # per photo, receipt or recording
    PER_PAGE = 25

    LOGIN_MAX_FAILURES = 5  # per account, then a temporary lock-out
    LOGIN_LOCKOUT = timedelta(minutes=15)
    LOGIN_IP_MAX_FAILURES = 30  # per address within LOGIN_IP_WINDOW
    LOGIN_IP_WINDOW = timedelta(minutes=15)
    PASSWORD_RESET_MAX_AGE = timedelta(hours=2)
    INVITATION_MAX_AGE = timedelta(days=14)

    STORE_STALE_AFTER_DAYS = 180
    MAIL_SENDER = "auditapp <no-reply@auditapp.local>"
    MAIL_BACKEND = "outbox"  # "outbox" keeps mail in the database (development)
    REDIS_URL = ""  # when set, background jobs go to RQ workers
    JOBS_MODE = ""  # "rq", "thread" or "inline"; empty chooses rq with Redis, else thread
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
    CALIBRATION_WARN_POINTS = 8  # leniency beyond ± this many points is worth a look
    CALIBRATION_MIN_COMPARISONS = 3  # fewer comparisons than this prove nothing yet

    # Alerts and mail delivery.
    MAIL_MAX_ATTEMPTS = 5  # a message that failed this often waits for an admin
    DIGEST_HOUR_UTC = 0  # the daily digest covers alerts raised before this hour
