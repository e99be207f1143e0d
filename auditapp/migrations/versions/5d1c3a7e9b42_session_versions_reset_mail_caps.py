"""Accounts: session versions, reset mails per account, login history by e-mail

Revision ID: 5d1c3a7e9b42
Revises: 2681d46e655b
Create Date: 2026-12-02 10:00:00.000000

Users get a session version: it is part of every session's user id, and raising it
(sign-out, new password, deactivation, "sign out everywhere") ends the old sessions.
Reset mails sent are recorded per user, so a cap on them holds across app machines.
The login history gets an index on the e-mail typed in, which sign-in throttling reads.
Columns are added without batch mode, so the SQLite triggers on other tables stay.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d1c3a7e9b42'
down_revision = '2681d46e655b'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('user', sa.Column('session_version', sa.Integer(), nullable=False,
                                    server_default='0'))
    op.create_index(op.f('ix_login_event_email'), 'login_event', ['email'], unique=False)
    op.create_table('password_reset_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_password_reset_mail_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_mail'))
    )
    op.create_index(op.f('ix_password_reset_mail_sent_at'), 'password_reset_mail', ['sent_at'], unique=False)
    op.create_index(op.f('ix_password_reset_mail_user_id'), 'password_reset_mail', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_password_reset_mail_user_id'), table_name='password_reset_mail')
    op.drop_index(op.f('ix_password_reset_mail_sent_at'), table_name='password_reset_mail')
    op.drop_table('password_reset_mail')
    op.drop_index(op.f('ix_login_event_email'), table_name='login_event')
    op.drop_column('user', 'session_version')
