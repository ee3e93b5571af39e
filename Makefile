# SPDX-License-Identifier: GPL-2.0-or-later
#
# make            build .output/connecttop (static: runs on any kernel of the
#                 build host's arch with BTF and ring buffers, no libraries
#                 needed there)
# make STATIC=0   link against the shared libraries instead
# make run        install missing packages, build, start the tool (sudo if not root)
# make test       install what the tests need, run every test
# make bench      the benchmark (prints numbers)
# make vmtest     the kernel matrix: bullseye, bookworm, trixie (qemu) and the host
#                 kernel, then the arm64 binary on the three arm64 kernels
# make V=1        show full commands
# make WERROR=1   warnings are errors (C and BPF); the default when CI=true
# make ARCH=arm64 cross-build for another arch (x86, arm64; default: the
#                 build host's) into .output/$(ARCH)/, with $(CROSS_COMPILE)gcc
#                 and Debian's -dev packages of that arch (make cross-deps);
#                 the BPF side is built with vmlinux/$(ARCH)/vmlinux.h
# make cross      = make ARCH=arm64 on an x86_64 host
# make dist       both static binaries, the man page and SHA256SUMS in
#                 .output/dist/, ready to copy to a host of either arch
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PKG_CONFIG ?= pkg-config
# the kernel's name for the build host's arch, as libbpf-bootstrap derives it
HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/arm.*/arm/' -e 's/aarch64/arm64/' \
	-e 's/ppc64le/powerpc/' -e 's/mips.*/mips/' -e 's/riscv64/riscv/' -e 's/loongarch64/loongarch/')
ARCH ?= $(HOST_ARCH)
ARCH := $(ARCH)
# Debian's multiarch triplet and architecture name of each arch we build for
triplet = $(if $(filter x86,$(1)),x86_64-linux-gnu,$(if $(filter arm64,$(1)),aarch64-linux-gnu))
debarch = $(if $(filter x86,$(1)),amd64,$(if $(filter arm64,$(1)),arm64))
TRIPLET := $(call triplet,$(ARCH))
ifeq ($(ARCH),$(HOST_ARCH))
OUTPUT := .output
else
# A cross build: its own output folder (the native build is kept), the
# cross compiler, the target's libraries (libbpf-dev:arm64 etc.) through
# their pkg-config files, and the target's kernel headers for BPF's asm/
ifeq ($(TRIPLET),)
$(error ARCH=$(ARCH): cross builds are for x86 and arm64)
endif
OUTPUT := .output/$(ARCH)
CROSS_COMPILE ?= $(TRIPLET)-
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
PKG_CONFIG := PKG_CONFIG_LIBDIR=/usr/lib/$(TRIPLET)/pkgconfig:/usr/share/pkgconfig pkg-config
endif
STATIC ?= 1
PREFIX ?= /usr/local

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Debian bookworm's packages: clang 14, libbpf 1.1.2, bpftool 7.1
DEPS_BUILD := clang libbpf-dev libelf-dev zlib1g-dev libncurses-dev pkg-config bpftool make gcc
DEPS_TEST := tmux jq iproute2 nftables groff-base mandoc procps psmisc perl clang-format
# test_dns.sh's real resolvers and clients: dnsmasq-base serves the test
# zone (the binary alone: the dnsmasq package would start a system DNS
# service), curl resolves with glibc's getaddrinfo, python3 with its
# socket module, golang-go builds a client on Go's pure resolver, nodejs
# has dns.lookup and c-ares's dns.resolve; util-linux's unshare gives
# them a private mount namespace for their resolv.conf
DEPS_TEST += dnsmasq-base curl python3 golang-go nodejs util-linux
# test_dns_idle.sh: dig asks over TCP and without EDNS (a truncated answer)
DEPS_TEST += bind9-dnsutils
# test_record: real clients recorded (curl against python's http.server, a
# python socket) and a python reader of the recording format (both above)
# what make bench needs (jq: the JSON lines; iproute2: ss, free ports;
# procps: pgrep; tmux: the real screen of section 7)
DEPS_BENCH := jq iproute2 procps tmux
# the peers make bench runs beside connecttop on the same loads, both in
# bookworm's main: bpftrace (a script keyed as connecttop's flows are, on
# the syscall tracepoints) and libbpf-tools (tcpstates, on the tracepoint
# sock:inet_sock_set_state). One that cannot be installed does not stop
# the bench: apt's last line is kept in $(OUTPUT)/bench-peer-PKG.log and
# the bench says why the peer is left out.
DEPS_BENCH_PEERS := bpftrace libbpf-tools
# the cross build (make cross, make dist, the arm64 kernel matrix): the
# compiler and the static libraries of the other arch
CROSS_ARCH := $(if $(filter x86,$(HOST_ARCH)),arm64,x86)
DEPS_CROSS := gcc-$(subst _,-,$(call triplet,$(CROSS_ARCH))) \
	$(addsuffix :$(call debarch,$(CROSS_ARCH)),libbpf-dev libelf-dev zlib1g-dev libncurses-dev libzstd-dev)

# CFLAGS, CPPFLAGS and LDFLAGS are the user's (make CFLAGS=...); what the
# build needs is kept apart, so that flags given on the command line (which
# replace a makefile's +=) cannot drop it
CFLAGS ?= -O2 -g
# CI builds (.ci/run sets CI=true) fail on a warning; WERROR=0 or 1 overrides
WERROR ?= $(if $(filter true,$(CI)),1,0)
WERROR_FLAGS := $(if $(filter 1,$(WERROR)),-Werror)
CT_CFLAGS := -std=gnu11 -Wall -Wextra -Wno-missing-field-initializers -D_GNU_SOURCE $(WERROR_FLAGS)
CT_CPPFLAGS := -I$(OUTPUT) -Ibpf -Itui -MMD -MP
# The BPF target has no system headers of its own: those of the host, in
# the order clang searches them (the arch's asm/ folder included, wherever
# the distribution puts it), as libbpf-bootstrap finds them. The braces keep
# a missing clang's complaint out of make's output (make deps installs it).
# A cross build takes the target's multiarch folder instead of the host's.
CLANG_BPF_SYS_INCLUDES ?= $(subst /$(call triplet,$(HOST_ARCH)),/$(TRIPLET),$(shell { $(CLANG) -v -E - </dev/null; } 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }'))
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function $(WERROR_FLAGS) \
	-I$(OUTPUT) -Ibpf -Ivmlinux/$(ARCH) $(CLANG_BPF_SYS_INCLUDES)

ifeq ($(STATIC),1)
# the binary to copy to other hosts: static and stripped; --gc-sections
# drops the unused sections of the static libraries (8 KB; our own objects
# gain nothing from -ffunction-sections, and -Os would save 24 KB but makes
# the view's work a third slower: measured in README.md)
CT_LDFLAGS := -static -s -Wl,--gc-sections
# names.c: host names through glibc's built-in files and dns only
CT_CFLAGS += -DCT_STATIC
LIBS := $(shell $(PKG_CONFIG) --static --libs libbpf ncursesw 2>/dev/null || echo -lbpf -lelf -lz -lncursesw -ltinfo) -lpthread
else
CT_LDFLAGS :=
# zlib is ours too (record.c's blocks), not only libbpf's
LIBS := $(shell $(PKG_CONFIG) --libs libbpf ncursesw zlib 2>/dev/null || echo -lbpf -lncursesw -lz) -lpthread
endif

CORE_SRCS := tui/row.c tui/baseline.c tui/diff.c tui/decode.c tui/flows.c tui/snap.c tui/sort.c tui/rows.c tui/pending.c tui/filter.c tui/export.c tui/util.c tui/prom.c tui/dns.c tui/dnstab.c tui/dnscap.c tui/dnsattr.c tui/qnames.c tui/record.c tui/spill.c
# the screen's pieces without curses (unit tested)
UI_SRCS := tui/ui_state.c tui/columns.c
APP_SRCS := $(CORE_SRCS) $(UI_SRCS) tui/main.c tui/app.c tui/probe.c tui/view.c tui/keys.c tui/draw.c tui/term.c tui/timing.c tui/termsave.c tui/names.c tui/batch.c tui/replay.c tui/playback.c tui/release.c
APP_OBJS := $(patsubst tui/%.c,$(OUTPUT)/%.o,$(APP_SRCS)) $(OUTPUT)/terminfo.o
# terminfo entries built in, for hosts without a terminfo database
TERMINFO_BUILTIN := xterm-256color xterm screen-256color screen tmux-256color linux vt100
CORE_OBJS := $(patsubst tui/%.c,$(OUTPUT)/%.o,$(CORE_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/unit/%,$(wildcard tests/unit/test_*.c))

.PHONY: all static cross run test unit bench vmtest screenshots clean install deps test-deps cross-deps dist vmlinux format format-check
all: $(OUTPUT)/connecttop $(OUTPUT)/loadgen
static: all

$(OUTPUT) $(OUTPUT)/unit $(OUTPUT)/asan:
	$(Q)mkdir -p $@

# bpftool's linker keeps BTF (needed for CO-RE) and drops the DWARF: 64K instead of 700K
$(OUTPUT)/connecttop.bpf.o: bpf/connecttop.bpf.c bpf/connecttop.h vmlinux/$(ARCH)/vmlinux.h $(OUTPUT)/bpf-flags | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(BPF_CMD) -c $< -o $(@:.o=.dbg.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.o=.dbg.o)

$(OUTPUT)/connecttop.skel.h: $(OUTPUT)/connecttop.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name connecttop_bpf > $@.tmp && mv $@.tmp $@

# probe.c includes the skeleton: make sure it exists before that object is built
$(OUTPUT)/probe.o: $(OUTPUT)/connecttop.skel.h

# The flags the objects and the binary are made with, each in a file that
# is rewritten only when they change: switching STATIC=0/1, WERROR, ARCH,
# CFLAGS or LDFLAGS rebuilds and relinks (make re-reads a file's time after
# its recipe)
CC_CMD = $(CC) $(CT_CPPFLAGS) $(CPPFLAGS) $(CT_CFLAGS) $(CFLAGS)
LD_CMD = $(CC) $(CT_CFLAGS) $(CFLAGS) $(CT_LDFLAGS) $(LDFLAGS) $(LIBS)
BPF_CMD = $(CLANG) $(BPF_CFLAGS)
$(OUTPUT)/cc-flags: FORCE | $(OUTPUT)
	$(Q)echo '$(CC_CMD)' | cmp -s - $@ || echo '$(CC_CMD)' >$@
$(OUTPUT)/bpf-flags: FORCE | $(OUTPUT)
	$(Q)echo '$(BPF_CMD)' | cmp -s - $@ || echo '$(BPF_CMD)' >$@
$(OUTPUT)/ld-flags: FORCE | $(OUTPUT)
	$(Q)echo '$(LD_CMD)' | cmp -s - $@ || echo '$(LD_CMD)' >$@
.PHONY: FORCE
FORCE:

$(OUTPUT)/terminfo.c: tui/embed-terminfo.sh | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)sh tui/embed-terminfo.sh $(TERMINFO_BUILTIN) >$@.tmp && mv $@.tmp $@

$(OUTPUT)/terminfo.o: $(OUTPUT)/terminfo.c $(OUTPUT)/cc-flags
	$(call msg,CC,$@)
	$(Q)$(CC_CMD) -c $< -o $@

$(OUTPUT)/%.o: tui/%.c $(OUTPUT)/cc-flags | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC_CMD) -c $< -o $@

$(OUTPUT)/connecttop: $(APP_OBJS) $(OUTPUT)/ld-flags
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CT_CFLAGS) $(CFLAGS) $(CT_LDFLAGS) $(LDFLAGS) $(APP_OBJS) $(LIBS) -o $@
	$(Q)printf '  %-8s %s: %s bytes (STATIC=%s)\n' SIZE $@ "$$(stat -c %s $@)" "$(STATIC)"

$(OUTPUT)/loadgen: tests/loadgen.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -Wall -Wextra $(WERROR_FLAGS) -static -pthread $< -o $@

# unit tests: the pure core, built with ASan and UBSan
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
$(OUTPUT)/asan/%.o: tui/%.c $(OUTPUT)/cc-flags | $(OUTPUT)/asan
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(CT_CPPFLAGS) $(CPPFLAGS) $(CT_CFLAGS) $(CFLAGS) -O1 $(SAN) -c $< -o $@

$(OUTPUT)/unit/%: tests/unit/%.c $(patsubst tui/%.c,$(OUTPUT)/asan/%.o,$(CORE_SRCS)) | $(OUTPUT)/unit
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CT_CPPFLAGS) $(CPPFLAGS) $(CT_CFLAGS) $(CFLAGS) -O1 $(SAN) -Itests/unit $^ -o $@ -lm -lpthread -lz

# the pid cache is read against real processes
$(OUTPUT)/unit/test_names: $(OUTPUT)/asan/names.o
# the exit's release of slow fds, with real processes
$(OUTPUT)/unit/test_release: $(OUTPUT)/asan/release.o
# the screen's state, without curses
$(OUTPUT)/unit/test_ui_state: $(patsubst tui/%.c,$(OUTPUT)/asan/%.o,$(UI_SRCS))

unit: $(UNIT_TESTS)

# keep the sanitizer objects between builds
.SECONDARY:

# the benchmark's minimal ring-buffer consumer (a peer in make bench)
$(OUTPUT)/rbpeer.bpf.o: tests/bench/rbpeer.bpf.c vmlinux/$(ARCH)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(BPF_CMD) -c $< -o $@
$(OUTPUT)/rbpeer: tests/bench/rbpeer.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CT_CFLAGS) $(CFLAGS) $(CT_LDFLAGS) $(LDFLAGS) $< $(LIBS) -o $@

# the view's work with many flows, for make bench
$(OUTPUT)/viewbench: tests/bench/viewbench.c $(CORE_OBJS)
	$(call msg,CC,$@)
	$(Q)$(CC_CMD) $^ -o $@ -lm -lz

# what a burst of new flows costs the flow table and batch mode, for make bench
$(OUTPUT)/flowbench: tests/bench/flowbench.c $(CORE_OBJS)
	$(call msg,CC,$@)
	$(Q)$(CC_CMD) $^ -o $@ -lm -lz

# The two commands of README.md. Both install what is missing first.
deps:
	$(Q)tests/install-deps.sh $(DEPS_BUILD)

# the cross packages are of the other arch: install-deps.sh adds that
# architecture to dpkg first
cross-deps: deps
	$(Q)tests/install-deps.sh $(DEPS_CROSS)

test-deps: deps cross-deps
	$(Q)tests/install-deps.sh $(DEPS_TEST)

cross: cross-deps
	$(Q)$(MAKE) --no-print-directory ARCH=$(CROSS_ARCH) all

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)if [ "$$(id -u)" = 0 ]; then $(OUTPUT)/connecttop $(ARGS); else sudo $(OUTPUT)/connecttop $(ARGS); fi

# the kernel matrix runs the cross-built binary too (tests/vm)
test: test-deps
	$(Q)$(MAKE) --no-print-directory all unit cross
	$(Q)tests/run.sh

bench: deps
	$(Q)tests/install-deps.sh $(DEPS_BENCH)
	$(Q)mkdir -p $(OUTPUT)
	$(Q)for p in $(DEPS_BENCH_PEERS); do \
		tests/install-deps.sh $$p >$(OUTPUT)/bench-peer-$$p.log 2>&1 || \
			echo "bench: cannot install $$p, the bench runs without it: $$(tail -n 1 $(OUTPUT)/bench-peer-$$p.log)"; \
	done
	$(Q)$(MAKE) --no-print-directory all $(OUTPUT)/viewbench $(OUTPUT)/flowbench $(OUTPUT)/rbpeer $(OUTPUT)/rbpeer.bpf.o
	$(Q)tests/bench.sh

vmtest: deps cross-deps
	$(Q)$(MAKE) --no-print-directory all cross
	$(Q)tests/vm/run.sh all

screenshots: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/tui/screenshots.sh

# The release: both static binaries, named by Debian architecture (uname -m
# x86_64 is amd64, aarch64 is arm64), the man page and their SHA256SUMS, in
# one folder to copy to a host (sha256sum -c --ignore-missing SHA256SUMS
# there checks the one copied)
DIST := .output/dist
DIST_BINS := connecttop-$(call debarch,$(HOST_ARCH)) connecttop-$(call debarch,$(CROSS_ARCH))
dist: deps cross-deps
	$(Q)$(MAKE) --no-print-directory STATIC=1 all
	$(Q)$(MAKE) --no-print-directory STATIC=1 ARCH=$(CROSS_ARCH) all
	$(call msg,DIST,$(DIST))
	$(Q)rm -rf $(DIST) && mkdir -p $(DIST)
	$(Q)cp .output/connecttop $(DIST)/connecttop-$(call debarch,$(HOST_ARCH))
	$(Q)cp .output/$(CROSS_ARCH)/connecttop $(DIST)/connecttop-$(call debarch,$(CROSS_ARCH))
	$(Q)cp man/connecttop.8 $(DIST)/
	$(Q)cd $(DIST) && sha256sum $(DIST_BINS) connecttop.8 >SHA256SUMS
	$(Q)cd $(DIST) && for f in $(DIST_BINS); do printf '  %-8s %s: %s bytes\n' SIZE $(DIST)/$$f "$$(stat -c %s $$f)"; done

install: all
	install -D -m 0755 $(OUTPUT)/connecttop $(DESTDIR)$(PREFIX)/sbin/connecttop
	install -D -m 0644 man/connecttop.8 $(DESTDIR)$(PREFIX)/share/man/man8/connecttop.8

# regenerate vmlinux/$(ARCH)/vmlinux.h: from the running kernel's BTF, or
# for a cross build (make vmlinux ARCH=arm64) from the BTF in the image of
# bookworm's cloud kernel of that arch, as the kernel matrix fetches and
# verifies it (the same bytes as its /sys/kernel/btf/vmlinux once booted)
VMLINUX_KERNEL := bookworm-$(call debarch,$(ARCH))
vmlinux:
ifeq ($(ARCH),$(HOST_ARCH))
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/$(ARCH)/vmlinux.h
else
	tests/vm/fetch-kernels.sh $(VMLINUX_KERNEL)
	mkdir -p $(OUTPUT)
	sh vmlinux/btf-from-image.sh $${CT_CACHE:-.cache/vm}/kernels/$(VMLINUX_KERNEL)/vmlinuz $(OUTPUT)/vmlinux.btf
	$(BPFTOOL) btf dump file $(OUTPUT)/vmlinux.btf format c > vmlinux/$(ARCH)/vmlinux.h
endif

# kernel style, .clang-format (clang-format 14, as bookworm ships it)
FORMAT_SRCS = $(wildcard tui/*.c tui/*.h bpf/*.c bpf/*.h tests/*.c tests/unit/*.c tests/unit/*.h tests/bench/*.c)
format:
	clang-format -i $(FORMAT_SRCS)

# make test fails on a file left unformatted
format-check:
	$(Q)bad=$$(for f in $(FORMAT_SRCS); do clang-format $$f | cmp -s - $$f || echo $$f; done); \
	if [ -n "$$bad" ]; then echo "FAIL: format: not formatted (make format):" $$bad; exit 1; \
	else echo "PASS: format: every source file as .clang-format says"; fi

clean:
	rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/asan/*.d)
