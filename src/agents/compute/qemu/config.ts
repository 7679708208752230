import { Type } from '@sinclair/typebox';
import { section } from '../../../core/config/types.js';

/** The QEMU virt driver of a compute host. */
export const qemuSection = section({
  accel: Type.Union([Type.Literal('auto'), Type.Literal('kvm'), Type.Literal('tcg')], {
    default: 'auto',
    description: 'auto: KVM only when a bounded boot probe proves it works (many hosts expose /dev/kvm that hangs guests), else TCG',
  }),
  machine: Type.Union([Type.Literal('pc'), Type.Literal('q35')], { default: 'pc', description: 'QEMU machine type (pc hot-plugs through ACPI; q35 gets PCIe root ports)' }),
  binary: Type.String({ default: 'qemu-system-x86_64' }),
  stateDir: Type.String({ default: '', description: 'instances, cached base images (default: <dataDir>/compute)' }),
  runDir: Type.String({ default: '', description: 'QMP/serial sockets and pidfiles; keep the path short (UNIX sockets: 107 bytes) (default: <stateDir>/run)' }),
  powerSyncSeconds: Type.Integer({ minimum: 0, default: 10, description: 'how often QEMU run states are compared with the recorded power states (0: never)' }),
  softShutdownSeconds: Type.Integer({ minimum: 0, default: 60, description: 'how long stop/soft reboot wait for an ACPI shutdown before forcing it' }),
  baseImageMaxAgeHours: Type.Integer({ minimum: 0, default: 24, description: 'unused cached base images older than this are removed' }),
});
