/*
 * LOG mode supervisor: one thread that receives the seccomp user
 * notifications of every sandboxed thread (one listener per thread, since
 * filters are per thread), reports each (thread, system call) once, and
 * lets the call run (SECCOMP_USER_NOTIF_FLAG_CONTINUE). It is started by
 * sandbox_prepare() before any filter exists, so it runs unfiltered:
 * filtering it would make it notify itself.
 *
 * Its loop never allocates and never uses stdio: the thread it is
 * answering may be stopped inside malloc or fprintf, holding their locks.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"
#include "core/log.h"

/* Every vCPU the CLI allows (255), the main thread, and room to spare. */
#define MAX_LISTENERS 288

struct listener {
	bool used;
	int fd;                 /* -1 while its thread is loading the filter */
	char name[16];
	uint64_t seen[SANDBOX_MAX_SYSCALL / 64]; /* calls already reported */
};

static struct {
	pthread_mutex_t lock;
	struct listener listeners[MAX_LISTENERS];
	int wake_fd;            /* eventfd: a listener was added */
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
} sup = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake_fd = -1 };

int sandbox_notify_reserve(const char *thread_name)
{
	int slot = -ENOSPC;

	pthread_mutex_lock(&sup.lock);
	for (int i = 0; i < MAX_LISTENERS; i++) {
		struct listener *l = &sup.listeners[i];

		if (l->used)
			continue;
		memset(l, 0, sizeof(*l));
		l->used = true;
		l->fd = -1;
		strncpy(l->name, thread_name, sizeof(l->name) - 1);
		slot = i;
		break;
	}
	pthread_mutex_unlock(&sup.lock);
	return slot;
}

void sandbox_notify_activate(int slot, int listener_fd)
{
	pthread_mutex_lock(&sup.lock);
	sup.listeners[slot].fd = listener_fd;
	pthread_mutex_unlock(&sup.lock);
	/* The supervisor may sit in poll() without this fd: wake it. */
	eventfd_write(sup.wake_fd, 1);
}

void sandbox_notify_cancel(int slot)
{
	pthread_mutex_lock(&sup.lock);
	sup.listeners[slot].used = false;
	pthread_mutex_unlock(&sup.lock);
}

/* Receives one notification, reports it if new for that thread, lets it run. */
static void handle(struct listener *l)
{
	struct seccomp_notif *req = sup.req;
	struct seccomp_notif_resp *resp = sup.resp;
	int nr;

	/* The kernel wants a zeroed request; ENOENT: the caller went away. */
	memset(req, 0, sizeof(*req));
	if (seccomp_notify_receive(l->fd, req))
		return;
	nr = req->data.nr;
	if (nr < 0 || nr >= SANDBOX_MAX_SYSCALL) {
		sandbox_report_logged(l->name, nr);
	} else if (!(l->seen[nr / 64] & (1ULL << (nr % 64)))) {
		l->seen[nr / 64] |= 1ULL << (nr % 64);
		sandbox_report_logged(l->name, nr);
	}
	memset(resp, 0, sizeof(*resp));
	resp->id = req->id;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	(void)seccomp_notify_respond(l->fd, resp);
}

static void *supervise(void *arg)
{
	struct pollfd fds[1 + MAX_LISTENERS];
	int slot_of[1 + MAX_LISTENERS];

	(void)arg;
	for (;;) {
		unsigned int n = 1;

		fds[0] = (struct pollfd){ .fd = sup.wake_fd, .events = POLLIN };
		pthread_mutex_lock(&sup.lock);
		for (int i = 0; i < MAX_LISTENERS; i++) {
			if (!sup.listeners[i].used || sup.listeners[i].fd < 0)
				continue;
			fds[n] = (struct pollfd){ .fd = sup.listeners[i].fd, .events = POLLIN };
			slot_of[n++] = i;
		}
		pthread_mutex_unlock(&sup.lock);

		if (poll(fds, n, -1) < 0)
			continue; /* EINTR; nothing else can fail with valid fds */
		if (fds[0].revents) {
			eventfd_t count;

			(void)eventfd_read(sup.wake_fd, &count);
		}
		for (unsigned int i = 1; i < n; i++) {
			struct listener *l = &sup.listeners[slot_of[i]];

			if (fds[i].revents & POLLIN) {
				handle(l);
			} else if (fds[i].revents & (POLLHUP | POLLERR | POLLNVAL)) {
				/* Its thread has exited (kernel 5.8+ says so): free the slot. */
				pthread_mutex_lock(&sup.lock);
				close(l->fd);
				l->used = false;
				pthread_mutex_unlock(&sup.lock);
			}
		}
	}
	return NULL;
}

bool sandbox_notify_start(void)
{
	sigset_t all, saved;
	pthread_t thread;
	int err;

	if (seccomp_notify_alloc(&sup.req, &sup.resp))
		return false;
	sup.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sup.wake_fd < 0)
		return false;
	/*
	 * Every signal blocked in the supervisor: the VMM expects SIGTERM and
	 * friends on its signalfd, and must not have them delivered here.
	 * Blocked before creation, so that none slips in at its start.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	err = pthread_create(&thread, NULL, supervise, NULL);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (err) {
		pr_warn("sandbox: cannot start the log supervisor: %s", strerror(err));
		close(sup.wake_fd);
		sup.wake_fd = -1;
		return false;
	}
	pthread_detach(thread);
	return true;
}
