"""Hardening: client-visible photos, visit insert guard, store location flag, feed tokens

Revision ID: e92a3d8bf88c
Revises: 5d1c3a7e9b42
Create Date: 2026-11-25 09:00:00.000000

- checklist_question.client_visible: a photo question whose photos the client's
  managers may see (off for every existing question: evidence stays agency-only).
- A trigger refuses a visit INSERTed in any status but 'planned', on PostgreSQL and
  SQLite alike; the status then moves only along visit_transition (8b10107ae28b).
- visit_flag.code may be 'store_without_location' (the store has no coordinates, so
  the check-in distance could not be checked).
- shopper_profile.calendar_token: a random secret per shopper in the address of their
  calendar feed, replaced when the feed is reset or revoked. Existing shoppers get
  one each here.
"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e92a3d8bf88c'
down_revision = '5d1c3a7e9b42'
branch_labels = None
depends_on = None

# FLAG_CODES as they stand here (auditapp/models/review.py), before and after.
OLD_FLAG_CODES = (
    'outside_window', 'outside_hours', 'short_duration', 'far_check_in', 'poor_accuracy',
    'photo_time', 'duplicate_photo', 'copied_comment', 'straight_lining', 'missing_evidence',
)
NEW_FLAG_CODES = (*OLD_FLAG_CODES, 'store_without_location')


def _codes(codes):
    return 'code IN (' + ', '.join(f"'{code}'" for code in codes) + ')'


def upgrade():
    # Plain ADD COLUMN, not batch mode: no table with triggers is rebuilt, and
    # shopper_profile (referenced by visit) is never dropped and copied.
    op.add_column('checklist_question', sa.Column('client_visible', sa.Boolean(),
                                                  nullable=False, server_default=sa.false()))
    op.add_column('shopper_profile', sa.Column('calendar_token', sa.String(length=64),
                                               nullable=False, server_default=''))
    shopper = sa.table('shopper_profile', sa.column('id', sa.Integer()),
                       sa.column('calendar_token', sa.String()))
    bind = op.get_bind()
    for (shopper_id,) in bind.execute(sa.select(shopper.c.id)).all():
        bind.execute(shopper.update().where(shopper.c.id == shopper_id)
                     .values(calendar_token=secrets.token_hex(32)))
    _replace_flag_codes(OLD_FLAG_CODES, NEW_FLAG_CODES)
    _create_insert_guard()


def _replace_flag_codes(old, new):
    with op.batch_alter_table('visit_flag', schema=None) as batch_op:  # no triggers there
        batch_op.drop_constraint(op.f('ck_visit_flag_code_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_visit_flag_code_known'), _codes(new))


def _create_insert_guard():
    """A new visit starts as planned (services/waves/setup.py); every later status is
    reached by UPDATEs along visit_transition, which another trigger guards."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            """
            CREATE FUNCTION visit_initial_status() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'visit_initial_status: %', NEW.status
                    USING ERRCODE = 'check_violation';
            END
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            """
            CREATE TRIGGER visit_initial_status
            BEFORE INSERT ON visit
            FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM 'planned')
            EXECUTE FUNCTION visit_initial_status()
            """
        )
        return
    op.execute(
        """
        CREATE TRIGGER visit_initial_status
        BEFORE INSERT ON visit
        WHEN NEW.status IS NOT 'planned'
        BEGIN
            SELECT RAISE(ABORT, 'visit_initial_status');
        END
        """
    )


def _drop_insert_guard():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    op.execute('DROP TRIGGER IF EXISTS visit_initial_status' + (' ON visit' if postgresql else ''))
    if postgresql:
        op.execute('DROP FUNCTION IF EXISTS visit_initial_status()')


def downgrade():
    _drop_insert_guard()
    op.execute("DELETE FROM visit_flag WHERE code = 'store_without_location'")
    _replace_flag_codes(NEW_FLAG_CODES, OLD_FLAG_CODES)
    op.drop_column('shopper_profile', 'calendar_token')
    op.drop_column('checklist_question', 'client_visible')
