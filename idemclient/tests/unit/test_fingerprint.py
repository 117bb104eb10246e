import testtools

from idemclient.core.fingerprint import Fingerprint

PARAMS = {'name': 'web1', 'image_id': 'img', 'flavor_id': '1',
          'min_count': 1, 'max_count': 1, 'networks': 'none'}


class TestFingerprint(testtools.TestCase):

    def test_same_parameters_same_fingerprint(self):
        self.assertEqual(Fingerprint.of(PARAMS),
                         Fingerprint.of(dict(reversed(list(PARAMS.items())))))

    def test_any_change_is_seen_and_named(self):
        for key, value in (('name', 'web2'), ('flavor_id', '2'),
                           ('max_count', 2), ('networks', [{'uuid': 'n'}])):
            changed = dict(PARAMS, **{key: value})
            a, b = Fingerprint.of(PARAMS), Fingerprint.of(changed)
            self.assertNotEqual(a, b)
            self.assertEqual([key], a.differences(b))

    def test_sets_compare_whatever_their_order(self):
        port = {'network_id': 'n', 'tags': ['b', 'a', 'c'],
                'allowed_address_pairs': [{'ip_address': '10.0.0.2'},
                                          {'ip_address': '10.0.0.1'}]}
        swapped = {'network_id': 'n', 'tags': ['c', 'a', 'b'],
                   'allowed_address_pairs': [{'ip_address': '10.0.0.1'},
                                             {'ip_address': '10.0.0.2'}]}
        names = ('tags', 'allowed_address_pairs')
        self.assertEqual(Fingerprint.of(port, names),
                         Fingerprint.of(swapped, names))
        self.assertEqual([], Fingerprint.of(port, names).differences(
            Fingerprint.of(swapped, names)))

    def test_a_set_still_differs_by_its_members(self):
        a = Fingerprint.of({'tags': ['a', 'b']}, ('tags',))
        b = Fingerprint.of({'tags': ['a', 'c']}, ('tags',))
        self.assertEqual(['tags'], a.differences(b))

    def test_other_lists_keep_their_order(self):
        first = dict(PARAMS, networks=[{'uuid': 'n1'}, {'uuid': 'n2'}])
        second = dict(PARAMS, networks=[{'uuid': 'n2'}, {'uuid': 'n1'}])
        self.assertEqual(['networks'], Fingerprint.of(first, ('tags',))
                         .differences(Fingerprint.of(second, ('tags',))))

    def test_added_parameter_is_named(self):
        b = Fingerprint.of(dict(PARAMS, key_name='k1'))
        self.assertEqual(['key_name'], Fingerprint.of(PARAMS).differences(b))

    def test_password_is_never_fingerprinted(self):
        self.assertEqual(Fingerprint.of(PARAMS),
                         Fingerprint.of(dict(PARAMS, admin_password='s3')))
        self.assertNotIn('admin_password',
                         Fingerprint.of(dict(PARAMS, admin_password='s'))
                         .encode())

    def test_none_values_do_not_count(self):
        self.assertEqual(Fingerprint.of(PARAMS),
                         Fingerprint.of(dict(PARAMS, description=None)))

    def test_encode_decode_round_trip(self):
        f = Fingerprint.of(PARAMS)
        g = Fingerprint.decode(f.encode())
        self.assertEqual(f, g)
        self.assertEqual(f.fields, g.fields)

    def test_encoding_fits_nova_metadata_value(self):
        many = {'parameter_%02d' % i: i for i in range(40)}
        f = Fingerprint.of(many)
        text = f.encode()
        self.assertLessEqual(len(text), 255)
        self.assertEqual(f, Fingerprint.decode(text))

    def test_decode_refuses_foreign_values(self):
        for text in ('', 'hello', 'v2 abc', 'v1', 'v1 abc x'):
            self.assertIsNone(Fingerprint.decode(text))

    def test_unencodable_values(self):
        class File:
            name = '/etc/motd'
        f = Fingerprint.of({'personality': [{'contents': File()}],
                            'user_data': b'raw'})
        self.assertEqual(f, Fingerprint.of({
            'personality': [{'contents': File()}], 'user_data': b'raw'}))
