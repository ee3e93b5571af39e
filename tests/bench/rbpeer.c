// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rbpeer OBJECT: the benchmark's minimal ring-buffer consumer (see
 * rbpeer.bpf.c). Prints "ready" once attached, counts records by comm
 * (polling every 100 ms, as its wake-ups are batched), and on SIGINT
 * prints "COMM COUNT" lines and "lost N" (records the ring had no room for).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

struct rec {
	unsigned int tgid;
	int ret;
	unsigned short family, port;
	unsigned char addr[4];
	char comm[16];
};

#define NCOMM 64
static struct {
	char comm[17];
	unsigned long long n;
} counts[NCOMM];
static volatile sig_atomic_t stop;

static void on_sig(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_rec(void *ctx, void *data, size_t len)
{
	const struct rec *r = data;

	(void)ctx;
	if (len < sizeof(*r))
		return 0;
	for (int i = 0; i < NCOMM; i++) {
		if (!counts[i].comm[0])
			memcpy(counts[i].comm, r->comm, 16);
		if (!strncmp(counts[i].comm, r->comm, 16)) {
			counts[i].n++;
			return 0;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct ring_buffer *rb;

	if (argc != 2) {
		fprintf(stderr, "usage: rbpeer OBJECT\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "rbpeer: cannot load %s\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj)
	{
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "rbpeer: cannot attach %s\n", bpf_program__name(prog));
			return 1;
		}
	}
	rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "rb"), on_rec, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "rbpeer: cannot map the ring buffer\n");
		return 1;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		ring_buffer__poll(rb, 100);
	ring_buffer__consume(rb);
	{
		struct bpf_map *bss = bpf_object__find_map_by_name(obj, "rbpeer.bss");
		unsigned long long lost = 0;
		int zero = 0;

		if (bss)
			bpf_map_lookup_elem(bpf_map__fd(bss), &zero, &lost);
		printf("lost %llu\n", lost);
	}
	for (int i = 0; i < NCOMM && counts[i].comm[0]; i++)
		printf("%s %llu\n", counts[i].comm, counts[i].n);
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
