/**
 * What runs inside the test guest (a CirrOS stand-in). PID 1 is a busybox
 * shell script; every line it prints for the host starts with `NIMBUS:` on
 * the serial console, so tests and benchmarks can follow the boot in the
 * console log (`openstack console log show`).
 *
 * Kept as strings (not files) so they ship inside the compiled JS.
 */

export const CONSOLE_PREFIX = 'NIMBUS:';

/** Console markers, in boot order; tests and the bench grep for them. */
export const Marker = {
  initStart: 'NIMBUS: init start',
  dhcpStart: 'NIMBUS: dhcp start',
  lease: 'NIMBUS: lease ',
  dhcpFailed: 'NIMBUS: dhcp FAILED',
  instanceId: 'NIMBUS: instance-id: ',
  metadataFetched: 'NIMBUS: metadata fetched',
  metadataFailed: 'NIMBUS: metadata FAILED',
  hostname: 'NIMBUS: hostname set to ',
  sshKey: 'NIMBUS: ssh key ',
  userData: 'NIMBUS: user-data ',
  sshReady: 'NIMBUS: ssh server started',
  login: 'NIMBUS: login ready',
  bootComplete: 'NIMBUS: boot complete',
  diskAppeared: 'NIMBUS: disk ',
  nicAppeared: 'NIMBUS: nic ',
  powerOff: 'NIMBUS: ACPI power button',
} as const;

export const INIT_SCRIPT = `#!/bin/sh
# PID 1 of the Nimbus test image.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /run /tmp /var/run /var/log /mnt
mount -t devpts devpts /dev/pts

say() { echo "NIMBUS: $*" > /dev/console; }
up() { cut -d' ' -f1 /proc/uptime; }

say "init start (uptime $(up)s) kernel $(uname -r)"
while read -r m; do
  [ -n "$m" ] || continue
  insmod "/lib/modules/$m" 2>/dev/null || say "insmod $m failed"
done < /etc/modules.order
say "modules loaded (uptime $(up)s)"

# ACPI power button (QMP system_powerdown, Nova's soft stop) -> clean poweroff
acpid -c /etc/acpi -l /run/acpid.log
hostname nimbus-guest
ip link set lo up

# --- DHCP on the first NIC ------------------------------------------------
dhcp() {
  # -O staticroutes: option 121 (Neutron's route to 169.254.169.254); -O mtu: option 26
  udhcpc -i "$1" -s /etc/udhcpc.script -O staticroutes -O mtu \\
         -t "\${2:-10}" -T 2 -A 3 -n -p "/run/udhcpc.$1.pid" -x hostname:nimbus-guest \\
         > "/run/udhcpc.$1.log" 2>&1
}
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
if [ -e /sys/class/net/eth0 ]; then
  say "eth0 mac $(cat /sys/class/net/eth0/address)"
  ip link set eth0 up
  say "dhcp start (uptime $(up)s)"
  if dhcp eth0 && [ -f /run/lease.eth0 ]; then
    say "lease $(cat /run/lease.eth0) (uptime $(up)s)"
    say "routes: $(ip -4 route | tr '\\n' ';')"
  else
    say "dhcp FAILED"
  fi
else
  say "no eth0"
fi

# --- Metadata (EC2 and OpenStack formats at 169.254.169.254) -------------
MD=http://169.254.169.254
fetch() { timeout 5 wget -q -O - "$MD/$1" 2>/dev/null; }
IID=
if [ -f /run/lease.eth0 ]; then
  n=0
  while [ $n -lt 15 ]; do
    IID=$(fetch latest/meta-data/instance-id) && [ -n "$IID" ] && break
    IID=; n=$((n+1)); sleep 1
  done
fi
if [ -n "$IID" ]; then
  say "instance-id: $IID"
  UUID=$(fetch openstack/latest/meta_data.json | sed -n 's/.*"uuid": *"\\([^"]*\\)".*/\\1/p')
  say "uuid: $UUID"
  say "metadata fetched (uptime $(up)s)"
  H=$(fetch latest/meta-data/hostname)
  if [ -n "$H" ]; then
    H=\${H%%.*}
    hostname "$H"; echo "$H" > /etc/hostname
    say "hostname set to $H"
  fi
  KEYS=$(fetch latest/meta-data/public-keys/)
  if [ -n "$KEYS" ]; then
    for idx in $(echo "$KEYS" | sed -n 's/^\\([0-9][0-9]*\\)=.*/\\1/p'); do
      K=$(fetch "latest/meta-data/public-keys/$idx/openssh-key")
      [ -n "$K" ] || continue
      for home in /root /home/cirros; do
        echo "$K" >> $home/.ssh/authorized_keys
      done
      say "ssh key $idx installed: $(echo "$K" | cut -c1-24)...$(echo "$K" | awk '{print $3}')"
    done
  else
    say "ssh key: none in metadata"
  fi
  if wget -q -O /run/user-data "$MD/openstack/latest/user_data" 2>/dev/null && [ -s /run/user-data ]; then
    if [ "$(head -c 2 /run/user-data)" = "#!" ]; then
      chmod 0700 /run/user-data
      say "user-data script starting"
      /run/user-data > /run/user-data.log 2>&1
      rc=$?
      sed 's/^/NIMBUS: user-data: /' /run/user-data.log > /dev/console
      say "user-data script exited $rc"
    else
      say "user-data present ($(wc -c < /run/user-data) bytes, not a script)"
    fi
  else
    say "user-data: none"
  fi
else
  [ -f /run/lease.eth0 ] && say "metadata FAILED"
fi

# --- A tiny HTTP service for connectivity tests: http://<ip>/ -------------
mkdir -p /www
echo "\${IID:-no-metadata} $(hostname)" > /www/index.html
httpd -p 80 -h /www

# --- SSH (dropbear; host keys made on first connection) -------------------
mkdir -p /etc/dropbear
if dropbear -R -p 22 -P /run/dropbear.pid 2>/run/dropbear.log; then
  say "ssh server started (dropbear, port 22)"
else
  say "ssh server FAILED: $(cat /run/dropbear.log)"
fi

# --- Hot-plug watcher: disks and NICs that come and go --------------------
watch_devices() {
  disks=" $(ls /sys/block | grep '^vd' | tr '\\n' ' ')"
  nics=" $(ls /sys/class/net | grep -v '^lo$' | tr '\\n' ' ')"
  while true; do
    sleep 1
    nd=" $(ls /sys/block | grep '^vd' | tr '\\n' ' ')"
    for d in $nd; do case "$disks" in *" $d "*) ;; *)
      say "disk $d appeared size $(cat /sys/block/$d/size) sectors serial $(cat /sys/block/$d/serial 2>/dev/null)";;
    esac; done
    for d in $disks; do case "$nd" in *" $d "*) ;; *) say "disk $d removed";; esac; done
    disks=$nd
    nn=" $(ls /sys/class/net | grep -v '^lo$' | tr '\\n' ' ')"
    for n in $nn; do case "$nics" in *" $n "*) ;; *)
      say "nic $n appeared mac $(cat /sys/class/net/$n/address)"
      ip link set "$n" up
      ( if dhcp "$n" 5 && [ -f "/run/lease.$n" ]; then say "lease on $n: $(cat /run/lease.$n)"; else say "dhcp on $n FAILED"; fi ) &
      ;;
    esac; done
    for n in $nics; do case "$nn" in *" $n "*) ;; *) say "nic $n removed";; esac; done
    nics=$nn
  done
}
watch_devices &

say "login ready: ssh as cirros or root, serial console shell (uptime $(up)s)"
say "boot complete (uptime $(up)s)"

# Serial console shell, respawned when it exits.
while true; do
  setsid sh -c 'exec /bin/sh -l </dev/ttyS0 >/dev/ttyS0 2>&1'
  sleep 1
done
`;

export const UDHCPC_SCRIPT = `#!/bin/sh
# busybox udhcpc hook: ip mask router dns domain hostname serverid lease mtu staticroutes
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/\${mask:-24}" dev "$interface"
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    if [ -n "$staticroutes" ]; then
      # RFC 3442: with option 121 present the router option is ignored
      set -- $staticroutes
      while [ $# -ge 2 ]; do
        if [ "$2" = "0.0.0.0" ]; then ip route replace "$1" dev "$interface"
        else ip route replace "$1" via "$2" dev "$interface"; fi
        shift 2
      done
    elif [ -n "$router" ]; then
      for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
    fi
    if [ "$interface" = eth0 ]; then
      : > /etc/resolv.conf
      [ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf
      for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    fi
    echo "ip=$ip/$mask router=$router dns=$dns domain=$domain hostname=$hostname server=$serverid lease=\${lease}s mtu=\${mtu:-none} staticroutes=[$staticroutes]" > "/run/lease.$interface"
    ;;
esac
exit 0
`;

export const ACPI_POWER_BUTTON = `#!/bin/sh
echo "NIMBUS: ACPI power button: powering off" > /dev/console
sync
poweroff -f
`;

/** sudo for a guest whose users are all root: drop options, run the command. */
export const SUDO_SHIM = `#!/bin/sh
while [ $# -gt 0 ]; do
  case "$1" in
    -u|-g|-p|-C|-h) shift 2 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
  esac
done
[ $# -eq 0 ] && exec /bin/sh
exec "$@"
`;

/** mkfs -t TYPE DEV (Tempest formats volumes this way) on top of busybox mke2fs. */
export const MKFS_SHIM = `#!/bin/sh
t=ext4
while [ $# -gt 1 ]; do
  case "$1" in -t) t=$2; shift 2 ;; -*) shift ;; *) break ;; esac
done
case "$t" in ext2|ext3|ext4) exec mke2fs -q "$@" ;; vfat|fat) exec mkdosfs "$@" ;; esac
echo "mkfs: unsupported type $t" >&2; exit 1
`;

export const PROFILE = `export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PS1='\\u@\\h:\\w\\$ '
`;
