"""Adjusted scores, calibration visits and the near-duplicate photo index

Revision ID: 3f8a6c2d9e14
Revises: 7c4e2b9d1f60
Create Date: 2026-12-07 08:00:00.000000

- client.adjusted_scores: show shopper-adjusted store scores beside raw ones.
- wave.calibration_share (0..50 percent of stores visited twice in one slot) and
  visit.calibration (the second visit), for question agreement.
- photo_hash_band: each photo's 64-bit difference hash in four 16-bit bands (with the
  whole hash, signed, beside them), indexed per client, filled in for the photos
  already stored.

Columns are added without batch mode, so the SQLite triggers on visit stay; SQLite
takes a named CHECK inside ADD COLUMN, PostgreSQL a separate constraint.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f8a6c2d9e14'
down_revision = '7c4e2b9d1f60'
branch_labels = None
depends_on = None

CALIBRATION_CHECK = 'calibration_share BETWEEN 0 AND 50'
BLANK_HASHES = ('0' * 16, 'f' * 16)


def upgrade():
    op.add_column('client', sa.Column('adjusted_scores', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.add_column('visit', sa.Column('calibration', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            'ALTER TABLE wave ADD COLUMN calibration_share INTEGER NOT NULL DEFAULT 0 '
            f'CONSTRAINT ck_wave_calibration_share_range CHECK ({CALIBRATION_CHECK})'
        )
    else:
        op.add_column('wave', sa.Column('calibration_share', sa.Integer(), nullable=False,
                                        server_default='0'))
        op.create_check_constraint('ck_wave_calibration_share_range', 'wave',
                                   CALIBRATION_CHECK)
    op.create_table(
        'photo_hash_band',
        sa.Column('evidence_id', sa.Integer(), nullable=False),
        sa.Column('band', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.Column('dhash', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('band BETWEEN 0 AND 3', name=op.f('ck_photo_hash_band_band_range')),
        sa.CheckConstraint('value BETWEEN 0 AND 65535',
                           name=op.f('ck_photo_hash_band_value_range')),
        sa.ForeignKeyConstraint(['client_id'], ['client.id'],
                                name=op.f('fk_photo_hash_band_client_id_client'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'],
                                name=op.f('fk_photo_hash_band_evidence_id_evidence'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('evidence_id', 'band', name=op.f('pk_photo_hash_band')),
    )
    op.create_index('ix_photo_hash_band_lookup', 'photo_hash_band',
                    ['client_id', 'band', 'value', 'evidence_id', 'dhash'], unique=False)
    _fill_bands()


def _fill_bands():
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        'SELECT evidence.id, evidence.dhash, wave.client_id FROM evidence '
        'JOIN visit ON visit.id = evidence.visit_id JOIN wave ON wave.id = visit.wave_id '
        'WHERE evidence.dhash IS NOT NULL'
    )).all()
    bands = [
        {'evidence_id': evidence_id, 'band': band, 'client_id': client_id,
         'value': (int(dhash, 16) >> (16 * (3 - band))) & 0xFFFF,
         'dhash': _signed(int(dhash, 16))}
        for evidence_id, dhash, client_id in rows
        if dhash.lower() not in BLANK_HASHES  # a blank picture is never indexed
        for band in range(4)
    ]
    if bands:
        bind.execute(sa.text(
            'INSERT INTO photo_hash_band (evidence_id, band, client_id, value, dhash) '
            'VALUES (:evidence_id, :band, :client_id, :value, :dhash)'
        ), bands)


def _signed(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def downgrade():
    op.drop_index('ix_photo_hash_band_lookup', table_name='photo_hash_band')
    op.drop_table('photo_hash_band')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE wave DROP COLUMN calibration_share')
    else:
        op.drop_constraint('ck_wave_calibration_share_range', 'wave', type_='check')
        op.drop_column('wave', 'calibration_share')
    op.drop_column('visit', 'calibration')
    op.drop_column('client', 'adjusted_scores')
