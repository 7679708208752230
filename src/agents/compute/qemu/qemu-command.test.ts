import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qemuArgs, type InstanceSpec } from './qemu-command.js';

const paths = { qmpSocket: '/run/x.qmp', serialSocket: '/run/x.serial', consoleLog: '/i/console.log', pidFile: '/run/x.pid', qemuLog: '/i/qemu.log' };
const spec: InstanceSpec = {
  uuid: '0b5e55ed-0000-4000-8000-000000000001',
  name: 'instance-00000001',
  vcpus: 2,
  memoryMiB: 256,
  machine: 'pc',
  accel: 'tcg',
  disks: [
    { id: 'virtio-disk0', path: '/i/disk', format: 'qcow2', bootIndex: 1 },
    { id: 'virtio-disk1', path: '/dev/vg/volume-1', format: 'raw', kind: 'host_device', serial: '0123456789abcdefghijXYZ', volumeId: 'v' },
  ],
  nics: [{ id: 'net0', mac: 'FA:16:3E:00:00:05', tap: 'tap12345678-9a', mtu: 1450 }],
};

test('explicit formats, virtio, serial log appended, QMP and VNC local only', () => {
  const a = qemuArgs(spec, paths).join(' ');
  assert.match(a, /-machine pc,accel=tcg -cpu qemu64 -m 256 -smp 2/);
  assert.match(a, /-blockdev driver=file,node-name=virtio-disk0-file,filename=\/i\/disk -blockdev driver=qcow2,node-name=virtio-disk0-fmt,file=virtio-disk0-file/);
  assert.match(a, /-blockdev driver=host_device,node-name=virtio-disk1-file,filename=\/dev\/vg\/volume-1 -blockdev driver=raw,/);
  assert.match(a, /virtio-blk-pci,drive=virtio-disk1-fmt,id=virtio-disk1,serial=0123456789abcdefghij(?!X)/);
  assert.match(a, /-netdev tap,id=hostnet0,ifname=tap12345678-9a,script=no,downscript=no -device virtio-net-pci,netdev=hostnet0,id=net0,mac=fa:16:3e:00:00:05,host_mtu=1450/);
  assert.match(a, /socket,id=charserial0,path=\/run\/x\.serial,server=on,wait=off,logfile=\/i\/console\.log,logappend=on/);
  assert.match(a, /-vnc 127\.0\.0\.1:0/);
  assert.match(a, /-chardev socket,id=charmonitor,path=\/run\/x\.qmp,server=on,wait=off -mon chardev=charmonitor,id=monitor,mode=control/);
  assert.doesNotMatch(a, /format=|if=/, 'no -drive shorthand that could probe formats');
});

test('KVM uses the host CPU; commas in paths are escaped; bad values are refused', () => {
  assert.match(qemuArgs({ ...spec, accel: 'kvm' }, paths).join(' '), /accel=kvm -cpu host/);
  const withComma = qemuArgs({ ...spec, disks: [{ id: 'virtio-disk0', path: '/i/a,b', format: 'qcow2' }] }, paths).join(' ');
  assert.match(withComma, /filename=\/i\/a,,b/);
  assert.throws(() => qemuArgs({ ...spec, nics: [{ id: 'net0', mac: 'zz', tap: 't' }] }, paths), /bad mac/);
  assert.throws(() => qemuArgs({ ...spec, disks: [{ id: 'd', path: '/x', format: 'vmdk' as never }] }, paths), /bad disk format/);
  assert.throws(() => qemuArgs({ ...spec, nics: [{ id: 'net0', mac: 'fa:16:3e:00:00:01', tap: 'tap;rm -rf /' }] }, paths), /bad tap/);
});
