#include "msix_vectors.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msix_layout.h"

int msix_vectors_init(struct msix_vectors *v, unsigned int nvectors, bool noresize,
		      msix_set_irqs_fn set_irqs, msix_vector_fd_fn vector_fd, void *opaque)
{
	memset(v, 0, sizeof(*v));
	if (!nvectors || nvectors > MSIX_MAX_VECTORS)
		return -EINVAL;
	v->armed = calloc(ALIGN_UP(nvectors, 64) / 64, sizeof(u64));
	if (!v->armed)
		return -ENOMEM;
	v->nvectors = nvectors;
	v->noresize = noresize;
	v->set_irqs = set_irqs;
	v->vector_fd = vector_fd;
	v->opaque = opaque;
	return 0;
}

void msix_vectors_destroy(struct msix_vectors *v)
{
	free(v->armed);
	v->armed = NULL;
	v->nvectors = 0;
}

bool msix_vectors_is_armed(const struct msix_vectors *v, unsigned int vector)
{
	return vector < v->nvectors && (v->armed[vector / 64] >> (vector % 64)) & 1;
}

unsigned int msix_vectors_count_armed(const struct msix_vectors *v)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < ALIGN_UP(v->nvectors, 64) / 64; i++)
		n += (unsigned int)__builtin_popcountll(v->armed[i]);
	return n;
}

/* Enables vectors 0..count-1 in VFIO, each armed one with its eventfd. */
static int enable_block(struct msix_vectors *v, unsigned int count)
{
	int *fds = malloc(count * sizeof(int));
	int ret;

	if (!fds)
		return -ENOMEM;
	for (unsigned int i = 0; i < count; i++)
		fds[i] = msix_vectors_is_armed(v, i) ? v->vector_fd(v->opaque, i) : -1;
	ret = v->set_irqs(v->opaque, 0, count, fds);
	free(fds);
	if (!ret)
		v->allocated = count;
	return ret;
}

int msix_vectors_enable(struct msix_vectors *v)
{
	unsigned int count = 1;

	if (v->allocated)
		return 0;
	for (unsigned int i = v->nvectors; i-- > 1;)
		if (msix_vectors_is_armed(v, i)) {
			count = i + 1;
			break;
		}
	return enable_block(v, count);
}

int msix_vectors_arm(struct msix_vectors *v, unsigned int vector)
{
	int fd, ret;

	if (vector >= v->nvectors)
		return -EINVAL;
	if (msix_vectors_is_armed(v, vector))
		return 0;
	fd = v->vector_fd(v->opaque, vector);
	if (fd < 0)
		return fd;
	v->armed[vector / 64] |= 1ULL << (vector % 64);
	if (!v->allocated) {
		ret = enable_block(v, vector + 1);
	} else if (vector < v->allocated || !v->noresize) {
		ret = v->set_irqs(v->opaque, vector, 1, &fd);
		if (!ret && vector >= v->allocated)
			v->allocated = vector + 1;
	} else {
		/* NORESIZE: the only way to more vectors is off and on again. */
		v->set_irqs(v->opaque, 0, 0, NULL);
		v->allocated = 0;
		ret = enable_block(v, vector + 1);
	}
	if (ret)
		v->armed[vector / 64] &= ~(1ULL << (vector % 64));
	return ret;
}

void msix_vectors_mark(struct msix_vectors *v, unsigned int vector)
{
	if (vector < v->nvectors)
		v->armed[vector / 64] |= 1ULL << (vector % 64);
}

void msix_vectors_pause(struct msix_vectors *v)
{
	if (v->allocated)
		v->set_irqs(v->opaque, 0, 0, NULL);
	v->allocated = 0;
}

void msix_vectors_disarm_all(struct msix_vectors *v)
{
	msix_vectors_pause(v);
	if (v->armed)
		memset(v->armed, 0, ALIGN_UP(v->nvectors, 64) / 8);
}
