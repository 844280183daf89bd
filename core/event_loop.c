#include "event_loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"

int event_loop_init(struct event_loop *loop)
{
	memset(loop, 0, sizeof(*loop));
	for (unsigned int i = 0; i < EVENT_LOOP_MAX; i++)
		loop->sources[i].fd = -1;
	pthread_mutex_init(&loop->lock, NULL);
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	return loop->epoll_fd < 0 ? -errno : 0;
}

void event_loop_destroy(struct event_loop *loop)
{
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	loop->epoll_fd = -1;
}

int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *opaque)
{
	for (unsigned int i = 0; i < EVENT_LOOP_MAX; i++) {
		struct event_source *s = &loop->sources[i];
		struct epoll_event ev = { .events = events, .data.ptr = s };

		if (s->fd >= 0)
			continue;
		if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
		*s = (struct event_source){ fd, fn, opaque };
		return 0;
	}
	return -E2BIG;
}

void event_loop_remove(struct event_loop *loop, int fd)
{
	for (unsigned int i = 0; i < EVENT_LOOP_MAX; i++) {
		if (loop->sources[i].fd != fd)
			continue;
		epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
		loop->sources[i].fd = -1;
		return;
	}
}

int event_loop_run(struct event_loop *loop)
{
	struct epoll_event events[16];

	loop->running = true;
	while (loop->running) {
		int n = epoll_wait(loop->epoll_fd, events, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_err("event loop: epoll_wait: %s", strerror(errno));
			return -errno;
		}
		pthread_mutex_lock(&loop->lock);
		for (int i = 0; i < n && loop->running; i++) {
			struct event_source *s = events[i].data.ptr;

			/* A callback may have removed a source later in this batch. */
			if (s->fd >= 0)
				s->fn(s->opaque, events[i].events);
		}
		pthread_mutex_unlock(&loop->lock);
	}
	return 0;
}

void event_loop_stop(struct event_loop *loop)
{
	loop->running = false;
}
