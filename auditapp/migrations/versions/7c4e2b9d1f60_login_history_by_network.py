"""Login history by network: sign-in throttling counts IPv6 clients by their /64

Revision ID: 7c4e2b9d1f60
Revises: e92a3d8bf88c
Create Date: 2026-12-03 10:00:00.000000

Each sign-in attempt records, next to the address, the network throttling counts it
by: the address itself for IPv4, its /64 for IPv6 (auditapp/networks.py), so a client
rotating addresses inside its /64 stays one client. Existing rows are filled in.
The column is added without batch mode, so the SQLite triggers on other tables stay.
"""
import ipaddress

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c4e2b9d1f60'
down_revision = 'e92a3d8bf88c'
branch_labels = None
depends_on = None

login_event = sa.table(
    'login_event', sa.column('id', sa.Integer), sa.column('ip', sa.String),
    sa.column('network', sa.String),
)


def _network_of(address):
    # A copy of auditapp.networks.network_of as it was when this migration was written.
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def upgrade():
    op.add_column('login_event', sa.Column('network', sa.String(length=64), nullable=False,
                                           server_default=''))
    bind = op.get_bind()
    bind.execute(sa.update(login_event).values(network=login_event.c.ip))
    rows = bind.execute(
        sa.select(login_event.c.id, login_event.c.ip).where(login_event.c.ip.contains(':'))
    ).all()
    if rows:
        bind.execute(
            sa.update(login_event).where(login_event.c.id == sa.bindparam('row_id'))
            .values(network=sa.bindparam('row_network')),
            [{'row_id': row_id, 'row_network': _network_of(ip)} for row_id, ip in rows],
        )
    op.create_index(op.f('ix_login_event_network'), 'login_event', ['network'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_login_event_network'), table_name='login_event')
    op.drop_column('login_event', 'network')
