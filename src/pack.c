/* SPDX-License-Identifier: MIT */
/*
 * pack.c - the copy of the dense layers' weights that inference reads
 * through libnn's kernel (gemm_avx512.c), laid out in its panels: built by
 * the first inference pass that finds none, kept until the parameters
 * change.
 *
 * Inference runs on a const model, from any number of threads at once, so
 * the copy is published with atomic operations: a pass that finds none
 * claims the model's slot with a placeholder (a compare-and-exchange from
 * NULL), builds the copy and stores it with release order; passes that
 * find the placeholder meanwhile read the weights where they are. Both
 * ways give the same bits (gemm_avx512.c), so which pass wins decides
 * speed only, never a result.
 *
 * The copy is never stale. The parameters change only in calls on the
 * non-const model, which no other call on it may run beside (nn.h), and
 * every such write drops the copy: nn__params_written, which every write
 * but the folded SGD update calls, and nn__optim_fused. While
 * params_shared is set the caller may write through nn_model_params's
 * pointer at any time, unseen, so no copy is built then.
 *
 * If the copy cannot be allocated, the pass reads the weights where they
 * are (the same results, more slowly) and a later pass tries again.
 */
#include "nn_internal.h"

#include <assert.h>

/* The placeholder while a pass builds the copy. */
static const char building_tag;
#define BUILDING ((void *)&building_tag)

/* Copies start on 64-byte boundaries (the block from nn__malloc_lines
 * starts on one). */
#define PACK_ALIGN 64u

static size_t round_up(size_t count)
{
    size_t per = PACK_ALIGN / sizeof(float);
    return count % per ? count + (per - count % per) : count;
}

/* One block: the nn__pack, its array of pointers, then each layer's copy.
 * NULL if it cannot be allocated. A model whose layers want no copy gets
 * one all the same, with every pointer NULL, so that its passes do not try
 * again. */
static nn__pack *build(const nn_model *m)
{
    size_t l, count = 0, head, bytes, off;
    unsigned char *block;
    nn__pack *p;
    /* the copies start at the first 64-byte boundary after the pointers */
    head = sizeof *p + m->n_layers * sizeof *p->w;
    head = (head + PACK_ALIGN - 1) / PACK_ALIGN * PACK_ALIGN;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        size_t f = L->ops->pack_floats ? L->ops->pack_floats(L) : 0;
        if (!nn__add_size(count, round_up(f), &count))
            return NULL;
    }
    if (!nn__mul_size(count, sizeof(float), &bytes) ||
        !nn__add_size(bytes, head, &bytes))
        return NULL;
    block = (unsigned char *)nn__malloc_lines(bytes);
    if (!block)
        return NULL;
    p = (nn__pack *)(void *)block;
    p->n_layers = m->n_layers;
    p->isa = nn__kernel_isa();
    p->w = (const float **)(void *)(block + sizeof *p);
    off = head;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        size_t f = L->ops->pack_floats ? L->ops->pack_floats(L) : 0;
        float *dst = (float *)(void *)(block + off);
        p->w[l] = NULL;
        if (f == 0)
            continue;
        L->ops->pack(m, L, dst);
        p->w[l] = dst;
        off += round_up(f) * sizeof(float);
    }
    return p;
}

const nn__pack *nn__pack_get(const nn_model *m)
{
#if NN__HAVE_KERNEL /* GCC or clang: their atomic built-ins */
    nn_model *w = (nn_model *)m; /* the copy is not the model's value */
    void *p = __atomic_load_n(&w->infer_pack, __ATOMIC_ACQUIRE);
    void *expected = NULL;
    if (p) /* a copy in another build's layout (nn__kernel_force) is
            * not read: the weights in place give the same bits */
        return p == BUILDING || ((const nn__pack *)p)->isa != nn__kernel_isa()
                   ? NULL
                   : (const nn__pack *)p;
    if (m->params_shared || !nn__kernel_on())
        return NULL;
    if (!__atomic_compare_exchange_n(&w->infer_pack, &expected, BUILDING, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return expected == BUILDING ? NULL : (const nn__pack *)expected;
    p = build(m);
    /* NULL if that failed: a later pass tries again */
    __atomic_store_n(&w->infer_pack, p, __ATOMIC_RELEASE);
    return (const nn__pack *)p;
#else
    (void)m;
    return NULL;
#endif
}

void nn__pack_drop(nn_model *m)
{
    void *p = m->infer_pack;
    if (!p)
        return;
    assert(p != BUILDING); /* no pass runs beside a write */
    m->infer_pack = NULL;
    nn__free_lines(p);
}
