"""Failpoints (the crash matrix's kill points) and the matrix's trial
count: a kill that fires where it claims, and no run that checks nothing."""

import io
import os
import signal
import subprocess
import sys

import testtools

from idemclient.core import failpoints
from idemclient.tests.functional import crash_matrix

# Read ``size`` bytes through PartWay armed at 'during-upload' after 4 of
# them, printing each chunk: the process is killed at the second read.
PART_WAY = """
import io, sys
sys.path.insert(0, sys.argv[1])
from idemclient.core import failpoints
data = failpoints.PartWay(io.BytesIO(bytes(10)), 'during-upload', after=4)
while True:
    chunk = data.read(4)
    print(len(chunk), flush=True)
    if not chunk:
        break
"""


class TestTrials(testtools.TestCase):

    def test_five_unless_told(self):
        self.assertEqual(5, crash_matrix.trials({}))
        self.assertEqual(1, crash_matrix.trials(
            {crash_matrix.TRIALS_VAR: '1'}))

    def test_a_value_that_would_check_nothing_is_an_error(self):
        for bad in ('0', '-1', '', 'five', '2.5'):
            exc = self.assertRaises(ValueError, crash_matrix.trials,
                                    {crash_matrix.TRIALS_VAR: bad})
            self.assertIn('1 or more', str(exc))


class TestPoints(testtools.TestCase):

    def run_part_way(self, failpoint):
        env = dict(os.environ)
        env.pop(failpoints.ENV_VAR, None)
        if failpoint:
            env[failpoints.ENV_VAR] = failpoint
        return subprocess.run(
            [sys.executable, '-c', PART_WAY, os.getcwd()], env=env,
            capture_output=True, text=True)

    def test_an_upload_is_killed_part_way(self):
        killed = self.run_part_way('during-upload')
        self.assertEqual(-signal.SIGKILL, killed.returncode)
        self.assertEqual(['4'], killed.stdout.split())  # 4 of 10 bytes out

    def test_unarmed_reads_the_whole_file(self):
        whole = self.run_part_way('after-response')
        self.assertEqual((0, ['4', '4', '2', '0']),
                         (whole.returncode, whole.stdout.split()))

    def test_part_way_passes_the_file_through(self):
        raw = io.BytesIO(b'abcdef')
        data = failpoints.PartWay(raw, 'not-armed-here')
        self.assertEqual(b'abcdef', data.read())
        self.assertEqual(6, data.tell())

    def test_every_point_is_either_before_or_after_sending(self):
        self.assertEqual(set(failpoints.POINTS),
                         set(failpoints.BEFORE_SENDING) |
                         set(failpoints.AFTER_SENDING))
        self.assertEqual(set(), set(failpoints.BEFORE_SENDING) &
                         set(failpoints.AFTER_SENDING))
