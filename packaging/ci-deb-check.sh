#!/usr/bin/env bash
# CI check of the Debian package, for a fresh Debian machine, as root, without systemd running:
# builds the .deb (packaging/build-deb.sh), runs lintian on it (any error or warning fails),
# installs it, checks its files, the account and
# permissions postinst made, runs the installed daemon in system mode as `vfetchd` and talks to
# it with the installed client, stops it with SIGTERM, then removes and purges the package.
#
# Leaves the machine as it found it (package, /etc/vfetchd, /var/lib/vfetchd and /run/vfetchd are
# gone at the end; purge keeps the system account, as Debian does, so this script removes the
# account itself when it did not exist before), and may be run again. Exits non-zero with a message naming
# the failed check.
set -euo pipefail
cd "$(dirname "$0")/.."

PKG=vfetch
SOCK=/run/vfetchd/vfetchd.sock
daemon_pid=

say() { printf 'ci-deb-check: %s\n' "$*"; }
ok() { printf 'ci-deb-check: ok: %s\n' "$*"; }
fail() {
    printf 'ci-deb-check: FAILED: %s\n' "$*" >&2
    if [ -s /tmp/vfetchd-ci.log ]; then
        printf 'ci-deb-check: daemon log:\n' >&2
        sed 's/^/  | /' /tmp/vfetchd-ci.log >&2
    fi
    exit 1
}

# Whether the account existed before this check: purge keeps it, so the check removes it then.
account_existed=no
getent passwd vfetchd >/dev/null && account_existed=yes

cleanup() {
    status=$?
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -KILL "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
    fi
    if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'ok \(installed\|config-files\|half\)'; then
        say "cleaning up: purging $PKG"
        dpkg --purge "$PKG" >/dev/null 2>&1 || true
    fi
    if [ "$account_existed" = no ] && ! dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'ok installed'; then
        getent passwd vfetchd >/dev/null && deluser --system --quiet vfetchd >/dev/null 2>&1 || true
        getent group vfetch >/dev/null && delgroup --system --quiet vfetch >/dev/null 2>&1 || true
    fi
    rm -f /tmp/vfetchd-ci.log
    exit "$status"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || fail "must run as root (it installs a package)"
export DEBIAN_FRONTEND=noninteractive

# --- build -----------------------------------------------------------------------------------
deb=$(packaging/build-deb.sh | tail -n 1)
[ -f "$deb" ] || fail "build-deb.sh printed no .deb path"
ok "built $deb"

# --- lintian ---------------------------------------------------------------------------------
if ! command -v lintian >/dev/null; then
    say "installing lintian"
    apt-get install -y -qq --no-install-recommends lintian >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends lintian >/dev/null; } ||
        fail "cannot install lintian"
fi
# --fail-on makes warnings fail too (by default only errors do); a status other than 0 is also
# lintian failing to run. Tags are read as well, in case of a lintian without --fail-on. I: and
# P: tags are informational. Overrides the package ships (usr/share/lintian/overrides) apply.
lintian_status=0
lintian_out=$(lintian --fail-on error,warning "$deb" 2>&1) || lintian_status=$?
if [ "$lintian_status" != 0 ] || grep -qE '^[EW]: ' <<<"$lintian_out"; then
    fail "lintian (exit status $lintian_status) reports errors or warnings:
$lintian_out"
fi
ok "lintian: no errors, no warnings"

# --- install ---------------------------------------------------------------------------------
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'ok installed'; then
    say "$PKG was installed before this check; it is replaced, and purged at the end"
fi
# apt resolves the package's dependencies (adduser); recommends (ffmpeg) are not needed here.
if ! apt-get install -y -qq --no-install-recommends "$(realpath "$deb")" >/tmp/vfetch-apt.log 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$(realpath "$deb")" >/tmp/vfetch-apt.log 2>&1 ||
        { cat /tmp/vfetch-apt.log >&2; fail "apt-get install $deb"; }
fi
rm -f /tmp/vfetch-apt.log
ok "installed $PKG $(dpkg-query -W -f='${Version}' "$PKG")"

listing=$(dpkg -L "$PKG")
for path in \
    /usr/bin/vfetchd /usr/bin/vfetchctl \
    /usr/lib/systemd/system/vfetchd.service /usr/lib/systemd/system/vfetchd.socket \
    /usr/lib/systemd/user/vfetchd.service /usr/lib/systemd/user/vfetchd.socket \
    /usr/lib/tmpfiles.d/vfetchd.conf \
    /etc/vfetchd/config.toml \
    /usr/share/man/man8/vfetchd.8.gz /usr/share/man/man1/vfetchctl.1.gz \
    /usr/share/man/man1/vfetchctl-add.1.gz /usr/share/man/man1/vfetchctl-priority.1.gz \
    /usr/share/bash-completion/completions/vfetchctl \
    /usr/share/zsh/vendor-completions/_vfetchctl \
    /usr/share/fish/vendor_completions.d/vfetchctl.fish \
    /usr/share/doc/vfetch/README.md; do
    grep -qx "$path" <<<"$listing" || fail "dpkg -L $PKG does not list $path"
    [ -s "$path" ] || fail "$path is missing or empty on disk"
done
ok "dpkg -L lists binaries, units, tmpfiles.d, config, man pages, completions, README"
dpkg-query -W -f='${Conffiles}' "$PKG" | grep -q '/etc/vfetchd/config.toml' ||
    fail "/etc/vfetchd/config.toml is not a conffile"
ok "/etc/vfetchd/config.toml is a conffile"

# --- what postinst did -----------------------------------------------------------------------
getent group vfetch >/dev/null || fail "group vfetch was not created"
getent passwd vfetchd >/dev/null || fail "user vfetchd was not created"
[ "$(id -gn vfetchd)" = vfetch ] || fail "vfetchd's primary group is $(id -gn vfetchd), not vfetch"
[ "$(getent passwd vfetchd | cut -d: -f6)" = /var/lib/vfetchd ] || fail "vfetchd's home is not /var/lib/vfetchd"
[ "$(getent passwd vfetchd | cut -d: -f7)" = /usr/sbin/nologin ] || fail "vfetchd's shell is not /usr/sbin/nologin"
ok "system user vfetchd (group vfetch, home /var/lib/vfetchd, shell nologin)"
[ "$(stat -c '%U:%G %a' /etc/vfetchd/config.toml)" = "root:vfetch 640" ] ||
    fail "/etc/vfetchd/config.toml is $(stat -c '%U:%G %a' /etc/vfetchd/config.toml), not root:vfetch 640"
ok "/etc/vfetchd/config.toml is root:vfetch 0640"
for dir in /var/lib/vfetchd /run/vfetchd; do
    [ "$(stat -c '%U:%G %a' "$dir")" = "vfetchd:vfetch 750" ] ||
        fail "$dir is $(stat -c '%U:%G %a' "$dir"), not vfetchd:vfetch 750"
done
ok "/var/lib/vfetchd and /run/vfetchd are vfetchd:vfetch 0750"
# Running postinst again changes nothing and does not fail (idempotence).
# The variables are what dpkg sets; deb-systemd-helper does nothing without them.
DPKG_MAINTSCRIPT_PACKAGE=$PKG DPKG_MAINTSCRIPT_NAME=postinst \
    "/var/lib/dpkg/info/$PKG.postinst" configure "$(dpkg-query -W -f='${Version}' "$PKG")" ||
    fail "postinst configure failed when run a second time"
[ "$(stat -c '%U:%G %a' /etc/vfetchd/config.toml)" = "root:vfetch 640" ] ||
    fail "a second postinst run changed /etc/vfetchd/config.toml"
ok "postinst runs again cleanly"

# --- the installed units ---------------------------------------------------------------------
if command -v systemd-analyze >/dev/null && [ -x /bin/kill ]; then
    man_opt=--man=no
    command -v man >/dev/null && man_opt=--man=yes
    errors=$(systemd-analyze verify "$man_opt" /usr/lib/systemd/system/vfetchd.service \
        /usr/lib/systemd/system/vfetchd.socket 2>&1) || fail "systemd-analyze verify: $errors"
    [ -z "$errors" ] || fail "systemd-analyze verify warns: $errors"
    ok "systemd-analyze verify $man_opt accepts the installed system units"
else
    say "NOTICE: installed units not verified: needs systemd-analyze and /bin/kill (apt-get install systemd procps)"
fi

# --- run the installed daemon as vfetchd, without systemd ------------------------------------
# postinst made /run/vfetchd; make sure, as systemd's RuntimeDirectory= would.
install -d -o vfetchd -g vfetch -m 0750 /run/vfetchd
# setpriv execs the daemon (runuser would stay as its parent), so $! is vfetchd itself and
# receives the SIGTERM below.
setpriv --reuid=vfetchd --regid=vfetch --init-groups --inh-caps=-all \
    /usr/bin/vfetchd --system >/tmp/vfetchd-ci.log 2>&1 &
daemon_pid=$!
for _ in $(seq 1 100); do
    [ -S "$SOCK" ] && break
    kill -0 "$daemon_pid" 2>/dev/null || fail "vfetchd --system exited before binding $SOCK"
    sleep 0.2
done
[ -S "$SOCK" ] || fail "no socket at $SOCK after 20 s"
ok "vfetchd --system (as vfetchd) listens on $SOCK"
[ "$(stat -c '%U:%G %a' "$SOCK")" = "vfetchd:vfetch 660" ] ||
    fail "$SOCK is $(stat -c '%U:%G %a' "$SOCK"), not vfetchd:vfetch 660"
ok "$SOCK is vfetchd:vfetch 0660"

status_out=$(/usr/bin/vfetchctl --system --no-autostart status 2>&1) ||
    fail "vfetchctl --system status failed: $status_out"
grep -q "$SOCK" <<<"$status_out" || fail "vfetchctl --system status does not name $SOCK: $status_out"
ok "vfetchctl --system status answers (as root):"
sed 's/^/  | /' <<<"$status_out"
# An unprivileged user (nobody) can use the daemon exactly when it is in the group vfetch.
nobody_uid=$(id -u nobody) nobody_gid=$(id -g nobody) vfetch_gid=$(getent group vfetch | cut -d: -f3)
member_out=$(setpriv --reuid="$nobody_uid" --regid="$nobody_gid" --groups="$vfetch_gid" \
    /usr/bin/vfetchctl --system --no-autostart status 2>&1) ||
    fail "a member of group vfetch cannot use the system daemon: $member_out"
ok "a member of group vfetch can use the system daemon"
if setpriv --reuid="$nobody_uid" --regid="$nobody_gid" --clear-groups \
    /usr/bin/vfetchctl --system --no-autostart status >/dev/null 2>&1; then
    fail "a user outside group vfetch could use the system daemon"
fi
ok "a user outside group vfetch is refused"

kill -TERM "$daemon_pid"
code=0
for _ in $(seq 1 100); do
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.2
done
kill -0 "$daemon_pid" 2>/dev/null && fail "vfetchd did not stop within 20 s of SIGTERM"
wait "$daemon_pid" || code=$?
daemon_pid=
[ "$code" = 0 ] || fail "vfetchd exited with status $code after SIGTERM (expected 0)"
ok "SIGTERM stopped vfetchd with exit status 0"

# --- remove, then purge ----------------------------------------------------------------------
dpkg -r "$PKG" >/dev/null || fail "dpkg -r $PKG"
[ ! -e /usr/bin/vfetchd ] || fail "/usr/bin/vfetchd still exists after dpkg -r"
[ -f /etc/vfetchd/config.toml ] || fail "dpkg -r removed the conffile /etc/vfetchd/config.toml"
[ -d /var/lib/vfetchd ] || fail "dpkg -r removed the state directory /var/lib/vfetchd"
getent passwd vfetchd >/dev/null || fail "dpkg -r removed the user vfetchd"
ok "dpkg -r removed the programs and kept config, state and account"
dpkg --purge "$PKG" >/dev/null || fail "dpkg --purge $PKG"
for path in /etc/vfetchd /var/lib/vfetchd /run/vfetchd; do
    [ ! -e "$path" ] || fail "$path still exists after dpkg --purge"
done
# Debian keeps system accounts on purge: files the uid owns may remain elsewhere, and a new
# account reusing the uid would own them (see packaging/debian/postrm).
getent passwd vfetchd >/dev/null || fail "dpkg --purge removed the user vfetchd (Debian keeps system accounts)"
getent group vfetch >/dev/null || fail "dpkg --purge removed the group vfetch (Debian keeps system accounts)"
[ "$(getent passwd vfetchd | cut -d: -f7)" = /usr/sbin/nologin ] || fail "the kept account vfetchd can log in"
ok "dpkg --purge removed config, state and runtime directory, and kept the locked account vfetchd"
say "all checks passed"
