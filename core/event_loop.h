/*
 * The VMM's one event loop (main thread): console input, signals, the
 * --timeout timer, the stop request from vCPU threads, and device
 * back-ends. Callbacks run on the main thread, under the loop lock; code
 * on a vCPU thread may add or remove sources while holding that lock.
 */
#ifndef CORE_EVENT_LOOP_H
#define CORE_EVENT_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef void (*event_fn)(void *opaque, uint32_t events);

#define EVENT_LOOP_MAX 64

struct event_source {
	int fd;
	event_fn fn;
	void *opaque;
};

struct event_loop {
	int epoll_fd;
	struct event_source sources[EVENT_LOOP_MAX];
	bool running;
	/*
	 * Held around every callback. Device back-ends run under it, and the
	 * vCPU-side handlers that change device state take it too, so a
	 * guest's reset can never race a back-end using the same queues.
	 */
	pthread_mutex_t lock;
};

int event_loop_init(struct event_loop *loop);
void event_loop_destroy(struct event_loop *loop);
int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *opaque);
void event_loop_remove(struct event_loop *loop, int fd);
/* Runs until event_loop_stop() is called from a callback. */
int event_loop_run(struct event_loop *loop);
void event_loop_stop(struct event_loop *loop);

#endif
