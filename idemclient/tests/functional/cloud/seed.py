"""Users, projects, roles and catalog of the local cloud, made once per up;
then, once Neutron answers, its shared network resources, and once Glance
answers, the public image every server boots.

    seed.py identity AUTH_URL NOVA_PORT CINDER_PORT NEUTRON_PORT GLANCE_PORT \
        OCTAVIA_PORT
    seed.py network AUTH_URL
    seed.py image AUTH_URL

Runs in the cloud's virtualenv with the admin password in KS_ADMIN_PASSWORD.
"""
import itertools
import os
import sys

from keystoneauth1.identity import v3
from keystoneauth1 import session
from keystoneclient.v3 import client

# The id the functional tests and the demo have always booted.
CIRROS_ID = 'c0ffee00-0000-4000-8000-00000000c1a0'

# name: (password, [(project, role), ...])
USERS = {
    'nova': ('novapass', [('service', 'admin'), ('service', 'service')]),
    'cinder': ('cinderpass', [('service', 'admin'), ('service', 'service')]),
    'neutron': ('neutronpass', [('service', 'admin'),
                                ('service', 'service')]),
    # enough for auth_token to validate tokens; Glance needs no admin
    'glance': ('glancepass', [('service', 'service')]),
    'octavia': ('octaviapass', [('service', 'service')]),
    'demo': ('demopass', [('demo', 'member'), ('demo2', 'member')]),
    'alt': ('altpass', [('alt', 'member')]),
    # Glance's policy (cloudctl) refuses this role's image creates.
    'noimg': ('noimgpass', [('noimg', 'member'), ('noimg', 'no-images')]),
}


def admin_session(auth_url):
    return session.Session(auth=v3.Password(
        auth_url=auth_url, username='admin',
        password=os.environ['KS_ADMIN_PASSWORD'], project_name='admin',
        user_domain_name='Default', project_domain_name='Default'))


def identity(auth_url, nova_port, cinder_port, neutron_port, glance_port,
             octavia_port):
    ks = client.Client(session=admin_session(auth_url))
    roles = {r.name: r for r in ks.roles.list()}
    for role in ('service', 'no-images'):
        if role not in roles:
            roles[role] = ks.roles.create(role)
    projects = {p.name: p for p in ks.projects.list()}
    for name in ('service', 'demo', 'demo2', 'alt', 'noimg'):
        projects[name] = ks.projects.create(name, domain='default')
    for name, (password, grants) in USERS.items():
        user = ks.users.create(name, domain='default', password=password)
        for project, role in grants:
            ks.roles.grant(roles[role], user=user, project=projects[project])
    # Nova lets only the service role swap a volume (Cinder's migration
    # API calls it): give it to admin so the swap-volume tests can.
    admin = ks.users.find(name='admin')
    ks.roles.grant(roles['service'], user=admin, project=projects['admin'])
    volume = 'http://127.0.0.1:%s/v3/$(project_id)s' % cinder_port
    catalog = [
        ('compute', 'nova', 'http://127.0.0.1:%s/v2.1' % nova_port),
        ('image', 'glance', 'http://127.0.0.1:%s' % glance_port),
        ('volumev3', 'cinderv3', volume),
        ('block-storage', 'cinder', volume),
        ('network', 'neutron', 'http://127.0.0.1:%s' % neutron_port),
        # no version in the path: octaviaclient adds /v2.0
        ('load-balancer', 'octavia', 'http://127.0.0.1:%s' % octavia_port),
    ]
    # RegionTwo: the same services again, so a test can show that one
    # token in two regions is two requests (journal, markers, reservations).
    ks.regions.create(id='RegionTwo')
    for service_type, name, url in catalog:
        service = ks.services.create(name=name, type=service_type)
        for interface, region in itertools.product(
                ('public', 'internal', 'admin'), ('RegionOne', 'RegionTwo')):
            ks.endpoints.create(service=service, url=url, interface=interface,
                                region=region)


def network(auth_url):
    """As admin: the external flat network ``public`` with a subnet (no
    DHCP) and ``router1`` with its gateway on it. Members allocate
    floating IPs from ``public``. demo's network ``private`` (a /22: a
    thousand ports for the tests' servers), shared so that every
    project's servers boot on it, has its subnet on ``router1``."""
    sess = admin_session(auth_url)
    where = {'service_type': 'network', 'interface': 'public',
             'region_name': 'RegionOne'}

    def post(path, resource, body):
        return sess.post('/v2.0/' + path, json={resource: body},
                         endpoint_filter=where).json()[resource]

    public = post('networks', 'network', {
        'name': 'public', 'router:external': True, 'shared': False,
        'provider:network_type': 'flat',
        'provider:physical_network': 'public'})
    post('subnets', 'subnet', {
        'name': 'public-subnet', 'network_id': public['id'], 'ip_version': 4,
        'cidr': '203.0.113.0/24', 'gateway_ip': '203.0.113.1',
        'enable_dhcp': False})
    router = post('routers', 'router', {
        'name': 'router1',
        'external_gateway_info': {'network_id': public['id']}})
    # demo's tenant network, routed to public: what servers boot on.
    demo = client.Client(session=sess).projects.find(name='demo')
    private = post('networks', 'network', {
        'name': 'private', 'project_id': demo.id, 'shared': True})
    subnet = post('subnets', 'subnet', {
        'name': 'private-subnet', 'network_id': private['id'],
        'project_id': demo.id, 'ip_version': 4, 'cidr': '10.0.0.0/22',
        'enable_dhcp': False})
    sess.put('/v2.0/routers/%s/add_router_interface' % router['id'],
             json={'subnet_id': subnet['id']}, endpoint_filter=where)


def image(auth_url):
    """As admin (a member may not publicize): ``cirros``, public, with
    CIRROS_ID, and 64 KiB of zeros so that it is active. Declared raw:
    Glance inspects uploads, and zeros declared qcow2 get 415."""
    sess = admin_session(auth_url)
    where = {'service_type': 'image', 'interface': 'public',
             'region_name': 'RegionOne'}
    sess.post('/v2/images', endpoint_filter=where, json={
        'id': CIRROS_ID, 'name': 'cirros', 'visibility': 'public',
        'disk_format': 'raw', 'container_format': 'bare'})
    sess.put('/v2/images/%s/file' % CIRROS_ID, endpoint_filter=where,
             data=bytes(64 * 1024),
             headers={'Content-Type': 'application/octet-stream'})


if __name__ == '__main__':
    {'identity': identity, 'network': network,
     'image': image}[sys.argv[1]](*sys.argv[2:])
