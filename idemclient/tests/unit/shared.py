"""What the unit tests share: a service behind requests-mock, the OSC app
as idemclient sees it, the caller's scope and a journal of the test's own.
One copy of each, so a change to how OSC or keystoneauth looks is made
once."""

import io
import os
from unittest import mock

import fixtures
from keystoneauth1 import adapter
from keystoneauth1 import session
from keystoneauth1 import token_endpoint
from requests_mock.contrib import fixture as rm_fixture

from idemclient.core import journal as jmod
from idemclient.core.token import Scope

# Whose request it is. The fake Neutron and Glance answer with this
# project, and the network tests expect it in the lookups they see.
SCOPE = Scope('http://k/v3', 'proj', 'user')
# Another project of the same user, for what must not be shared across.
OTHER_PROJECT = Scope('http://k/v3', 'proj2', 'user')

NOVA = 'http://nova.example/v2.1'


def scope_of(scope=SCOPE):
    """``idemclient.context.scope_of`` patched to answer ``scope``: a
    token session has no Keystone to say whose request it is."""
    return fixtures.MockPatch('idemclient.context.scope_of',
                              return_value=scope)


def nova_version(max_version):
    """Nova's v2.1 entry in its version documents (GET / lists it, GET
    /v2.1 answers it alone)."""
    return {'id': 'v2.1', 'status': 'CURRENT', 'version': max_version,
            'min_version': '2.1',
            'links': [{'rel': 'self', 'href': NOVA + '/'}]}


class MockedService(fixtures.Fixture):
    """A service at ``endpoint`` for the code under test to call: a
    requests-mock fixture answering for it, behind a real keystoneauth
    session (token 'tok') and adapter, so the clients build the real
    requests. ``adapter_kwargs`` go to the adapter (retries, say)."""

    def __init__(self, endpoint, service_type, **adapter_kwargs):
        super().__init__()
        self.endpoint = endpoint
        self.service_type = service_type
        self.adapter_kwargs = adapter_kwargs

    def _setUp(self):
        self.mock = self.useFixture(rm_fixture.Fixture())
        self.session = self.new_session()
        self.adapter = self.new_adapter(self.session, **self.adapter_kwargs)

    def new_session(self):
        return session.Session(auth=token_endpoint.Token(self.endpoint,
                                                         'tok'))

    def new_adapter(self, sess=None, **kwargs):
        """An adapter for the service; on a new session unless given one,
        so it has learnt nothing yet (no version document)."""
        return adapter.Adapter(sess or self.new_session(),
                               service_type=self.service_type,
                               endpoint_override=self.endpoint, **kwargs)


class TempJournal(fixtures.Fixture):
    """A journal path in a temporary directory of its own; nothing is
    there until the code under test (or ``open``) makes it. ``name`` may
    have a directory in it, for tests of how the journal makes one."""

    def __init__(self, name='journal.sqlite'):
        super().__init__()
        self.name = name

    def _setUp(self):
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.dir, self.name)

    def open(self, path=None):
        """The journal (or another at ``path``), closed at cleanup."""
        journal = jmod.Journal.open(path or self.path)
        self.addCleanup(journal.close)
        return journal

    def entries(self, scope=SCOPE, path=None):
        """What the journal holds for ``scope``, read as another run
        would: opened and closed again."""
        with jmod.Journal.open(path or self.path) as journal:
            return journal.entries(scope=scope.key)


def fake_app(journal_path=None, **clients):
    """OSC's app as idemclient sees it: the client manager with the given
    clients (any other is a Mock), no clouds.yaml configuration, the
    journal option, no --idem-settle-seconds, and standard output and
    error to read back. Without a journal path the option stays a Mock,
    so a test cannot reach the user's own journal by mistake."""
    app = mock.Mock()
    if journal_path is not None:
        app.options.idem_journal = journal_path
    app.options.idem_settle_seconds = None
    app.client_manager.get_configuration.return_value = {}
    for name, client in clients.items():
        setattr(app.client_manager, name, client)
    app.stdout, app.stderr = io.StringIO(), io.StringIO()
    return app
