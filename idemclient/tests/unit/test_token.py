import testtools

from idemclient.core import token


class TestValidate(testtools.TestCase):

    def test_accepts_ec2_rule(self):
        for value in ('a', 'A' * 64, 'web-1 retry #2', '~!@#$%^&*()', ' '):
            self.assertEqual(value, token.validate(value))

    def test_refuses_everything_else(self):
        for value in ('', 'a' * 65, 'caf\u00e9', 'tab\there', 'new\nline',
                      '\x7f', None):
            self.assertRaises(token.InvalidToken, token.validate, value)

    def test_message_names_the_rule_and_the_option(self):
        exc = self.assertRaises(token.InvalidToken, token.validate, '',
                                'task tag')
        self.assertEqual("Invalid task tag '': use 1 to 64 printable ASCII "
                         'characters', str(exc))


class TestDeriveTag(testtools.TestCase):
    scope = token.Scope('http://keystone/v3/', 'p1', 'u1')

    def assertNovaTag(self, tag):
        """A tag Nova takes (1 to 60 characters, no '/' or ','), of the
        form the docs give: idem-<8 hex of the scope>-<token or ~hash>."""
        self.assertLessEqual(len(tag), 60)
        self.assertNotIn('/', tag)
        self.assertNotIn(',', tag)
        self.assertRegex(tag, r'^idem-[0-9a-f]{8}-(~[0-9a-f]+|[^~]+)$')

    def test_safe_token_is_readable(self):
        tag = token.derive_tag(self.scope, 'web-1')
        self.assertNovaTag(tag)
        self.assertTrue(tag.startswith('idem-'))
        self.assertTrue(tag.endswith('-web-1'))

    def test_unsafe_or_long_tokens_are_hashed_and_fit(self):
        for value in ('a/b', 'a,b', 'Web', 'x' * 64, ' ', '~'):
            tag = token.derive_tag(self.scope, value)
            self.assertNovaTag(tag)
            self.assertRegex(tag, r'-~[0-9a-f]+$')
            self.assertEqual(60, len(tag))  # as much of the hash as fits

    def test_case_matters(self):
        # MySQL compares tags without case: 'Web' must not become 'web'.
        self.assertNotEqual(token.derive_tag(self.scope, 'Web').lower(),
                            token.derive_tag(self.scope, 'web').lower())

    def test_scope_matters(self):
        other_project = token.Scope('http://keystone/v3', 'p2', 'u1')
        other_user = token.Scope('http://keystone/v3', 'p1', 'u2')
        other_cloud = token.Scope('http://other/v3', 'p1', 'u1')
        tags = {token.derive_tag(s, 't') for s in (
            self.scope, other_project, other_user, other_cloud)}
        self.assertEqual(4, len(tags))

    def test_trailing_slash_of_auth_url_does_not_matter(self):
        self.assertEqual(
            token.derive_tag(self.scope, 't'),
            token.derive_tag(token.Scope('http://keystone/v3', 'p1', 'u1'),
                             't'))

    def test_prefix_separates_task_tags(self):
        self.assertNotEqual(token.derive_tag(self.scope, 't'),
                            token.derive_tag(self.scope, 't', prefix='task'))

    def test_stable(self):
        # Known value: a retry on another host derives the very same tag.
        scope = token.Scope('http://k/v3', 'p', 'u')
        import hashlib
        expected_scope = hashlib.sha256(b'http://k/v3\0p\0u').hexdigest()
        self.assertEqual('idem-%s-abc' % expected_scope[:8],
                         token.derive_tag(scope, 'abc'))
