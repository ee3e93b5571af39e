#!/bin/bash
# Download Debian cloud kernels for the VM test matrix into $CT_CACHE
# (default: <repo>/.cache/vm), using a private apt configuration. Idempotent:
# a kernel already extracted is not fetched again (--refresh re-resolves).
#
#   tests/vm/fetch-kernels.sh [--refresh] [NAME...]
#   tests/vm/fetch-kernels.sh --mirrors    print the two archive URIs and exit
#
# NAME is one of: bullseye (5.10), bookworm (6.1), trixie (6.12), for
# amd64, or the same with -arm64 (bullseye-arm64...) for arm64, whose
# kernel folder also gets that release's static busybox (busybox-static:arm64,
# for its initramfs); default: $VM_KERNELS or the three amd64 ones.
# The archive URIs are read from this machine's apt sources at run time;
# CT_DEBIAN_MIRROR / CT_DEBIAN_SECURITY_MIRROR override them. Signatures are
# always verified, against CT_KEYRING (default: debian-archive-keyring's,
# installed if missing); a suite that does not verify is an error.
# CT_FETCH_TIMEOUT (900) bounds each apt-get, CT_FETCH_STALL (30) a stall.
#
# Result per kernel, in $CT_CACHE/kernels/NAME/:
#   vmlinuz   the kernel image       config   its /boot/config-*
#   info      package=, version=, release=, btf=, bpf_syscall=
#   busybox   (arm64 only) the static busybox of the same release
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

refresh=0 mirrors_only=0
names=""
for a in "$@"; do
	case $a in
	--refresh) refresh=1 ;;
	--mirrors) mirrors_only=1 ;;
	-h | --help)
		sed -n '2,19p' "$0"
		exit 0
		;;
	-*) die "unknown option '$a'" ;;
	*) names="$names $a" ;;
	esac
done
[ -n "$names" ] || names=$VM_KERNELS

mkdir -p "$CT_CACHE/kernels"

# --- the archive URIs, from the host's apt sources ---------------------------
# CT_APT_ETC: the apt configuration folder read (default /etc/apt; the
# tests point it at fixtures).
APT_ETC=${CT_APT_ETC:-/etc/apt}

# Prints "URI SUITE" for every 'deb' entry of the host's sources, in apt's
# order: sources.list, then sources.list.d/*.list and *.sources by name.
host_sources() {
	local f
	for f in "$APT_ETC/sources.list" "$APT_ETC"/sources.list.d/*.list "$APT_ETC"/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		case $f in
		*.sources)
			# deb822: paragraphs separated by blank lines; a field may go
			# on over lines that start with a blank
			awk '
			function flush() {
				if (types ~ / deb / && enabled != "no")
					for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
				types = ""; enabled = ""; nu = 0; ns = 0; key = ""
			}
			function add(from) {
				for (i = from; i <= NF; i++) {
					if (key == "types") types = types $i " "
					else if (key == "uris") u[++nu] = $i
					else if (key == "suites") s[++ns] = $i
					else if (key == "enabled") enabled = tolower($i)
				}
			}
			/^#/ { next }
			/^[ \t]*$/ { flush(); next }
			/^[ \t]/ { add(1); next }
			{ key = tolower($1); sub(/:.*/, "", key); if (key == "types") types = " "; sub(/^[^:]*:/, ""); add(1) }
			END { flush() }' "$f"
			;;
		*)
			# deb [options] URI SUITE COMPONENTS...
			sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && NF >= 3 { print $2, $3 }'
			;;
		esac
	done
}

# Debian's release codenames and aliases: a suite named otherwise (a
# third-party repository) is never taken for the archive.
DEBIAN_SUITES="buzz rex bo hamm slink potato woody sarge etch lenny squeeze wheezy jessie stretch
buster bullseye bookworm trixie forky duke sid oldoldstable oldstable stable testing unstable"

pick_mirrors() {
	local pairs
	# unique, in the sources' order; "URI/" and "URI" are the same
	pairs=$(host_sources | awk '{ sub(/\/+$/, "", $1) } !seen[$0]++')
	# the archive: the first URI with a plain Debian codename as its suite
	# (else one with its -updates suite); the security archive: the first
	# URI with a Debian CODENAME-security (or CODENAME/updates) suite
	MIRROR=${CT_DEBIAN_MIRROR:-$(echo "$pairs" | awk -v names="$DEBIAN_SUITES" '
		BEGIN { n = split(names, a); for (i = 1; i <= n; i++) deb[a[i]] = 1 }
		deb[$2] && !main { main = $1 }
		$2 ~ /-updates$/ && deb[substr($2, 1, length($2) - 8)] && !upd { upd = $1 }
		END { print main ? main : upd }')}
	SEC_MIRROR=${CT_DEBIAN_SECURITY_MIRROR:-$(echo "$pairs" | awk -v names="$DEBIAN_SUITES" '
		BEGIN { n = split(names, a); for (i = 1; i <= n; i++) deb[a[i]] = 1 }
		($2 ~ /-security$/ && deb[substr($2, 1, length($2) - 9)]) || ($2 ~ /\/updates$/ && deb[substr($2, 1, length($2) - 8)]) { print $1; exit }')}
	[ -n "$MIRROR" ] || die "no Debian archive URI (a 'deb' entry with a Debian codename as its suite) in $APT_ETC/sources.list or $APT_ETC/sources.list.d/*.{list,sources}; set CT_DEBIAN_MIRROR"
	MIRROR=${MIRROR%/}
	SEC_MIRROR=${SEC_MIRROR%/}
	[ -n "$SEC_MIRROR" ] || note "no Debian security archive URI in the apt sources: the -security suites are skipped (set CT_DEBIAN_SECURITY_MIRROR)"
}

# Every suite is checked against this keyring (bookworm's holds the bullseye,
# bookworm and trixie archive keys).
KEYRING=${CT_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

need_keyring() {
	[ -r "$KEYRING" ] && return 0
	[ -z "${CT_KEYRING:-}" ] || die "keyring '$KEYRING' (CT_KEYRING) is not readable"
	[ "$(id -u)" = 0 ] || die "no Debian archive keyring at $KEYRING: apt-get install debian-archive-keyring"
	note "installing debian-archive-keyring (to verify the archive signatures)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debian-archive-keyring \
		>"$CT_CACHE/apt-install.log" 2>&1 || die "apt-get install debian-archive-keyring failed; see $CT_CACHE/apt-install.log"
	[ -r "$KEYRING" ] || die "debian-archive-keyring is installed but $KEYRING is missing"
}

# apt-get/apt-cache with the private configuration of one kernel's suites.
# Downloads are retried (Acquire::Retries), a stalled connection gives up
# after CT_FETCH_STALL seconds and a whole apt-get after CT_FETCH_TIMEOUT.
papt() {
	local tool=$1 dir=$2
	shift 2
	timeout -k 10 "${CT_FETCH_TIMEOUT:-900}" "$tool" \
		-o Acquire::Retries=3 \
		-o Acquire::http::Timeout="${CT_FETCH_STALL:-30}" \
		-o Acquire::https::Timeout="${CT_FETCH_STALL:-30}" \
		-o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$dir/sources.list.d" \
		-o Dir::Etc::Preferences=/dev/null \
		-o Dir::Etc::PreferencesParts="$dir/empty" \
		-o Dir::State="$dir/state" \
		-o Dir::State::Lists="$dir/lists" \
		-o Dir::State::status="$dir/status" \
		-o Dir::Cache="$dir/cache" \
		-o APT::Architecture="$debarch" -o APT::Architectures="$debarch" \
		-o Acquire::Languages=none \
		-o APT::Sandbox::User=root \
		"$@"
}

write_sources() {
	local dir=$1 main=$2 sec=$3 signed
	mkdir -p "$dir/sources.list.d" "$dir/empty" "$dir/state" "$dir/lists/partial" "$dir/cache/archives/partial"
	: >"$dir/status"
	signed="Signed-By: $KEYRING"
	{
		printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\n%s\n' "$MIRROR" "$main" "$signed"
		if [ -n "$sec" ] && [ -n "$SEC_MIRROR" ]; then
			printf '\nTypes: deb\nURIs: %s\nSuites: %s\nComponents: main\n%s\n' "$SEC_MIRROR" "$sec" "$signed"
		fi
	} >"$dir/sources.list.d/vm.sources"
}

if [ "$mirrors_only" = 1 ]; then
	pick_mirrors
	echo "mirror=$MIRROR"
	echo "security=$SEC_MIRROR"
	exit 0
fi

tmp=""
cleanup() { [ -z "$tmp" ] || rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# die, keeping apt's log ($2: update or download) where it can be read; a
# network failure is named as one
fdie() {
	local why=$1 net
	mkdir -p "$CT_CACHE/logs"
	cp "$dir/$2.log" "$CT_CACHE/logs/fetch-$name-$2.log" 2>/dev/null || true
	grep '^[WE]:' "$dir/$2.log" 2>/dev/null | head -n 4 >&2 || true
	net=$(grep -m1 -o "Could not resolve '[^']*'\|Temporary failure resolving '[^']*'\|Could not connect to [^ ]*\|Connection timed out\|Connection failed\|Connection refused\|Network is unreachable\|No route to host\|Unable to connect to [^ ]*" "$dir/$2.log" 2>/dev/null || true)
	if [ -n "$net" ]; then
		why="$why: network error reaching the mirror ($net; mirror: $MIRROR${SEC_MIRROR:+, $SEC_MIRROR}; set CT_DEBIAN_MIRROR for another)"
	elif [ "${3:-0}" = 124 ] || [ "${3:-0}" = 137 ]; then
		why="$why: timed out after ${CT_FETCH_TIMEOUT:-900}s (CT_FETCH_TIMEOUT)"
	fi
	die "$why; see $CT_CACHE/logs/fetch-$name-$2.log"
}

cfg_has() { grep -q "^$2=y" "$1"; }

# Download into $1 the first of the "VERSION PACKAGE" lines on stdin (newest
# first) that the archive serves; sets got_pkg and got_ver. A 404 (a partial
# mirror, a security update not yet on every arch) moves on to the next
# version, of another suite, with a note: still a signed package. $2 names
# what is looked for.
download_first() {
	local to=$1 what=$2 v p rc
	got_pkg="" got_ver=""
	while read -r v p; do
		note "$name: apt-get download $p=$v"
		rc=0
		(cd "$to" && papt apt-get "$dir" -q download "$p=$v") >"$dir/download.log" 2>&1 || rc=$?
		if [ "$rc" = 0 ]; then
			got_pkg=$p got_ver=$v
			return 0
		fi
		grep -q ' 404 ' "$dir/download.log" || fdie "$name: apt-get download $p=$v failed" download "$rc"
		note "$name: the archive has no file for $p=$v (404): trying the next version"
	done
	fdie "$name: no version of $what could be downloaded" download
}

fetch_one() {
	local main sec out meta pkg ver deb t0 t1 cfg rc release
	name=$1
	out=$CT_CACHE/kernels/$name
	# the suffix names the Debian architecture (none: amd64)
	release=${name%-arm64}
	debarch=amd64
	[ "$release" = "$name" ] || debarch=arm64
	case $release in
	bullseye) main="bullseye bullseye-updates" sec=bullseye-security ;;
	bookworm) main="bookworm bookworm-updates" sec=bookworm-security ;;
	trixie) main="trixie trixie-updates" sec=trixie-security ;;
	*) die "unknown kernel '$name' (known: bullseye bookworm trixie, and each with -arm64)" ;;
	esac
	if [ "$refresh" = 0 ] && [ -s "$out/vmlinuz" ] && [ -s "$out/info" ] &&
		{ [ "$debarch" = amd64 ] || [ -s "$out/busybox" ]; }; then
		echo "cached: $name: $(tr '\n' ' ' <"$out/info")"
		return 0
	fi
	[ -n "${MIRROR:-}" ] || pick_mirrors
	need_keyring
	t0=$(now_ms)
	# the private apt tree is temporary: removed when done (kept logs: on failure)
	dir=$(mktemp -d "$CT_CACHE/apt.XXXXXX")
	tmp=$dir
	write_sources "$dir" "$main" "$sec"
	note "$name: apt-get update ($MIRROR: $main${SEC_MIRROR:+; $SEC_MIRROR: $sec})"
	# Signatures are always checked: a release file that does not verify
	# against the keyring ends the fetch (never a retry without them).
	rc=0
	papt apt-get "$dir" -q --error-on=any update >"$dir/update.log" 2>&1 || rc=$?
	if [ "$rc" != 0 ]; then
		if grep -q 'NO_PUBKEY\|EXPKEYSIG\|BADSIG\|signature\|not signed' "$dir/update.log"; then
			fdie "$name: the archive signature of $main/$sec does not verify against $KEYRING ($(grep -o 'NO_PUBKEY [0-9A-F]*\|EXPKEYSIG [0-9A-F]*\|BADSIG [0-9A-F]*\|is not signed' "$dir/update.log" | sort -u | tr '\n' ' ' | sed 's/ $//')); a newer debian-archive-keyring may have the key: apt-get install debian-archive-keyring, or take its keyring from a newer Debian release and set CT_KEYRING" update
		fi
		fdie "$name: apt-get update failed" update "$rc"
	fi
	# Each version of the metapackage (newest first) depends on a versioned
	# image package (linux-image-<abi>-cloud-<arch>): the newest one the
	# archive serves is taken.
	meta=linux-image-cloud-$debarch
	cands=$(papt apt-cache "$dir" show "$meta" 2>/dev/null | awk -v arch="$debarch" '
		/^Version:/ { ver = $2 }
		/^Depends:/ { n = split(substr($0, 10), d, ","); for (i = 1; i <= n; i++) {
			split(d[i], w, " "); p = w[1]
			if (p ~ "^linux-image-.*-cloud-" arch "(-unsigned)?$") { print ver, p; break } } }' |
		sort -k1,1Vr -u)
	[ -n "$cands" ] || fdie "$name: no $meta in $main/$sec" update
	mkdir "$tmp/dl"
	download_first "$tmp/dl" "$meta" <<<"$cands"
	pkg=$got_pkg ver=$got_ver
	deb=$(ls "$tmp"/dl/*.deb 2>/dev/null | head -n1)
	[ -n "$deb" ] || die "$name: apt-get download left no .deb"
	mkdir "$tmp/x"
	dpkg-deb -x "$deb" "$tmp/x" || die "$name: dpkg-deb -x $deb failed"
	set -- "$tmp"/x/boot/vmlinuz-*
	[ -f "$1" ] || die "$name: no /boot/vmlinuz-* in $deb"
	mkdir -p "$out.new"
	cp "$1" "$out.new/vmlinuz"
	# the host's busybox cannot run on an arm64 kernel: that of the
	# release, from the same verified archive
	if [ "$debarch" != amd64 ]; then
		mkdir "$tmp/bb" "$tmp/bbx"
		papt apt-cache "$dir" show busybox-static 2>/dev/null | sed -n 's/^Version: *\(.*\)/\1 busybox-static/p' |
			sort -k1,1Vr -u | download_first "$tmp/bb" busybox-static
		dpkg-deb -x "$tmp"/bb/busybox-static_*.deb "$tmp/bbx" || die "$name: dpkg-deb -x busybox-static failed"
		# /usr/bin from trixie on (merged /usr)
		for bb in "$tmp"/bbx/bin/busybox "$tmp"/bbx/usr/bin/busybox; do
			[ -f "$bb" ] && break
		done
		cp "$bb" "$out.new/busybox" || die "$name: no /bin/busybox or /usr/bin/busybox in busybox-static"
	fi
	cfg=$(ls "$tmp"/x/boot/config-* 2>/dev/null | head -n1)
	[ -n "$cfg" ] && cp "$cfg" "$out.new/config"
	{
		echo "package=$pkg"
		echo "version=$ver"
		echo "release=${1##*/vmlinuz-}"
		echo "deb_bytes=$(stat -c %s "$deb")"
		if [ -n "$cfg" ]; then
			cfg_has "$cfg" CONFIG_DEBUG_INFO_BTF && echo btf=yes || echo btf=no
			cfg_has "$cfg" CONFIG_BPF_SYSCALL && echo bpf_syscall=yes || echo bpf_syscall=no
		else
			echo btf=unknown
			echo bpf_syscall=unknown
		fi
	} >"$out.new/info"
	# the package lists are only needed again with --refresh
	rm -rf "$out" "$tmp"
	tmp=""
	mv "$out.new" "$out"
	t1=$(now_ms)
	echo "fetched: $name: $(tr '\n' ' ' <"$out/info")($(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100))s)"
}

for n in $names; do
	fetch_one "$n"
done

# Summary, with the kernel features the tool relies on.
echo
printf '%-14s %-40s %-16s %-4s %-5s %s\n' KERNEL PACKAGE RELEASE BTF BPF "other (from config)"
for n in $names; do
	out=$CT_CACHE/kernels/$n
	pkg=$(sed -n 's/^package=//p' "$out/info")
	rel=$(sed -n 's/^release=//p' "$out/info")
	btf=$(sed -n 's/^btf=//p' "$out/info")
	bpf=$(sed -n 's/^bpf_syscall=//p' "$out/info")
	other=""
	if [ -s "$out/config" ]; then
		for o in CONFIG_BPF_JIT CONFIG_BPF_EVENTS CONFIG_KPROBES CONFIG_FTRACE_SYSCALLS CONFIG_TRACING CONFIG_IPV6 CONFIG_DEVTMPFS CONFIG_SERIAL_8250_CONSOLE CONFIG_SERIAL_AMBA_PL011_CONSOLE CONFIG_RD_GZIP; do
			v=$(sed -n "s/^$o=//p" "$out/config")
			other="$other ${o#CONFIG_}=${v:-n}"
		done
	fi
	printf '%-14s %-40s %-16s %-4s %-5s%s\n' "$n" "$pkg" "${rel%-cloud-*}" "$btf" "$bpf" "$other"
	[ "$btf" = yes ] || echo "WARNING: $n kernel has no CONFIG_DEBUG_INFO_BTF: no /sys/kernel/btf/vmlinux" >&2
done
