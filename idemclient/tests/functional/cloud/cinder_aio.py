"""Cinder's api, scheduler, volume and backup services in one process.

One oslo.service launcher, so oslo.messaging's in-memory ``fake:/``
transport carries their RPC: no RabbitMQ. Usage:
``python cinder_aio.py --config-file cinder.conf``
"""
from cinder import monkey_patch; monkey_patch.patch()  # noqa: E702

import logging as python_logging  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402

import os_brick  # noqa: E402
from oslo_config import cfg  # noqa: E402
from oslo_log import log as logging  # noqa: E402
from oslo_privsep import priv_context  # noqa: E402
from oslo_service import service as os_service  # noqa: E402

from cinder.cmd import backup as _backup_cmd  # noqa: E402,F401 (opts)
from cinder.cmd import volume as _volume_cmd  # noqa: E402,F401 (opts)
from cinder.common import config  # noqa: E402
from cinder.common import constants  # noqa: E402
from cinder import i18n  # noqa: E402
i18n.enable_lazy()
from cinder import objects  # noqa: E402
from cinder import rpc  # noqa: E402
from cinder import service  # noqa: E402
from cinder import utils  # noqa: E402
from cinder import version  # noqa: E402

CONF = cfg.CONF

# cinder.service.Service keeps ``service_id`` as a CLASS attribute (one
# service per process is assumed), so with several services in one process
# every heartbeat would update the row of whichever service started last and
# the others would show "down" after service_down_time.  Point the class
# attribute at this instance's row before each heartbeat.
_orig_report_state = service.Service.report_state


def _report_state(self):
    service.Service.service_id = self.origin_service_id
    return _orig_report_state(self)


service.Service.report_state = _report_state


def main():
    objects.register_all()
    CONF(sys.argv[1:], project='cinder', version=version.version_string())
    config.set_middleware_defaults()
    logging.setup(CONF, 'cinder')
    python_logging.captureWarnings(True)
    priv_context.init(root_helper=shlex.split(utils.get_root_helper()))
    utils.monkey_patch()
    os_brick.setup(CONF)
    rpc.init(CONF)
    log = logging.getLogger('cinder_aio')

    launcher = os_service.ServiceLauncher(CONF, restart_method='mutate')
    launcher.launch_service(
        service.Service.create(binary=constants.SCHEDULER_BINARY))
    for backend in filter(None, CONF.enabled_backends):
        launcher.launch_service(service.Service.create(
            host='%s@%s' % (CONF.host, backend), service_name=backend,
            binary=constants.VOLUME_BINARY, coordination=True))
    sem = utils.semaphore_factory(CONF.backup_max_operations, 1)
    launcher.launch_service(service.Service.create(
        binary=constants.BACKUP_BINARY, coordination=True,
        service_name='backup', process_number=1, semaphore=sem))
    launcher.launch_service(service.WSGIService('osapi_volume'))
    log.info('cinder all-in-one started')
    launcher.wait()


if __name__ == '__main__':
    main()
