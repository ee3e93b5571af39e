# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# A DNS server of the test's own and clients pointed at it (sourced, after
# tests/lib.sh: T_TMP, t_track, t_wait_pid, fail).
#   dns_serve N HOSTS [DNSMASQ-ARGS...]: dnsmasq on N.1:53 (N: three octets
#     of 127/8 chosen by the test), answering for the zone test from the
#     hosts-file lines HOSTS and nothing else; 0 once it listens
#   private CMD...: CMD in a private mount namespace whose resolv.conf
#     and nsswitch.conf ("hosts: dns": no nss-resolve, no /etc/hosts) point
#     at it, with no nscd socket; the host's files are never touched
dns_serve() {
	local n=$1 hosts=$2
	shift 2
	DNS=$n.1
	printf '%s\n' "$hosts" >"$T_TMP/hosts"
	printf 'nameserver %s\noptions attempts:1 timeout:2\n' "$DNS" >"$T_TMP/resolv.conf"
	echo "hosts: dns" >"$T_TMP/nsswitch.conf"
	dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --addn-hosts="$T_TMP/hosts" \
		--listen-address="$DNS" --bind-interfaces --port=53 --local=/test/ \
		--user=root --pid-file= --log-facility="$T_TMP/dnsmasq.log" --log-queries "$@" &
	DNSMASQ=$!
	t_track "$DNSMASQ"
	if ! t_wait_pid "$DNSMASQ" 10 dns_up; then
		fail "dnsmasq serves $DNS:53" "$(tail -3 "$T_TMP/dnsmasq.log" 2>/dev/null)"
		return 1
	fi
}
dns_up() { ss -Hlun "src $DNS:53" | grep -q .; }

private() {
	# shellcheck disable=SC2016 # the inner shell expands them
	unshare -m --propagation private sh -c '
		mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/nsswitch.conf || exit 99
		# an nscd of the host would answer getaddrinfo instead of DNS
		if [ -d /run/nscd ]; then mount -t tmpfs tmpfs /run/nscd || exit 99; fi
		shift 2
		exec "$@"' sh "$T_TMP/resolv.conf" "$T_TMP/nsswitch.conf" "$@"
}
