/* One time step of Keras's LSTM, GRU (reset_after true and false) and SimpleRNN in plain C99, on the
 * gate blocks of a header written by `kernelsplit export --format c` (keras layout). A test's
 * fixture, not part of kernelsplit: tests/proofs/test_export_c.py compiles it beside exported
 * headers and compares it with kernelsplit's reference forward pass.
 *
 * Keras multiplies row vectors: a gate's input term is out[j] = sum_i x[i] * W[i][j], every block
 * row-major (rows x units). A NULL bias pointer means the layer stores none.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

typedef float (*act_fn)(float);

static float ks_tanh(float x) { return tanhf(x); }
static float ks_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
static float ks_relu(float x) { return x > 0.0f ? x : 0.0f; }
static float ks_linear(float x) { return x; }
static float ks_clip01(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
/* hard_sigmoid as Keras 1/2 and tf.keras define it, and as Keras 3 does */
static float ks_hard_sigmoid_keras2(float x) { return ks_clip01(0.2f * x + 0.5f); }
static float ks_hard_sigmoid_keras3(float x) { return ks_clip01(x / 6.0f + 0.5f); }

#define KS_MAX_UNITS 64

/* out[j] = bias[j] (or 0) + sum_i x[i] * W[i * units + j] */
static void ks_affine(const float *x, int rows, const float *W, const float *bias, int units, float *out) {
    for (int j = 0; j < units; ++j) {
        float sum = bias ? bias[j] : 0.0f;
        for (int i = 0; i < rows; ++i) sum += x[i] * W[i * units + j];
        out[j] = sum;
    }
}

/* W[g], U[g], b[g] for the gates i, f, c, o; rb: a CuDNN bias's recurrent half (or NULL). */
static void ks_lstm_step(int input_dim, int units, const float *x, float *h, float *c,
                         const float *const W[4], const float *const U[4], const float *const b[4],
                         act_fn act, act_fn ract) {
    float pre[4][KS_MAX_UNITS], rec[KS_MAX_UNITS];
    for (int g = 0; g < 4; ++g) {
        ks_affine(x, input_dim, W[g], b[g], units, pre[g]);
        ks_affine(h, units, U[g], NULL, units, rec);
        for (int j = 0; j < units; ++j) pre[g][j] += rec[j];
    }
    for (int j = 0; j < units; ++j) {
        float i = ract(pre[0][j]), f = ract(pre[1][j]), candidate = act(pre[2][j]), o = ract(pre[3][j]);
        c[j] = f * c[j] + i * candidate;
        h[j] = o * act(c[j]);
    }
}

/* Gates z, r, h. reset_after: rb[g] is the recurrent bias row (NULL without bias). */
static void ks_gru_step(int input_dim, int units, const float *x, float *h,
                        const float *const W[3], const float *const U[3], const float *const b[3],
                        const float *const rb[3], int reset_after, act_fn act, act_fn ract) {
    float xz[KS_MAX_UNITS], xr[KS_MAX_UNITS], xh[KS_MAX_UNITS];
    float hz[KS_MAX_UNITS], hr[KS_MAX_UNITS], hh[KS_MAX_UNITS], z[KS_MAX_UNITS], r[KS_MAX_UNITS];
    float rh[KS_MAX_UNITS] = {0};
    ks_affine(x, input_dim, W[0], b[0], units, xz);
    ks_affine(x, input_dim, W[1], b[1], units, xr);
    ks_affine(x, input_dim, W[2], b[2], units, xh);
    ks_affine(h, units, U[0], reset_after ? rb[0] : NULL, units, hz);
    ks_affine(h, units, U[1], reset_after ? rb[1] : NULL, units, hr);
    for (int j = 0; j < units; ++j) {
        z[j] = ract(xz[j] + hz[j]);
        r[j] = ract(xr[j] + hr[j]);
    }
    if (reset_after) {
        ks_affine(h, units, U[2], rb[2], units, hh);
        for (int j = 0; j < units; ++j) hh[j] = act(xh[j] + r[j] * hh[j]);
    } else {
        for (int j = 0; j < units; ++j) rh[j] = r[j] * h[j];
        ks_affine(rh, units, U[2], NULL, units, hh);
        for (int j = 0; j < units; ++j) hh[j] = act(xh[j] + hh[j]);
    }
    for (int j = 0; j < units; ++j) h[j] = z[j] * h[j] + (1.0f - z[j]) * hh[j];
}

static void ks_simple_rnn_step(int input_dim, int units, const float *x, float *h, const float *W,
                               const float *U, const float *b, act_fn act) {
    float pre[KS_MAX_UNITS], rec[KS_MAX_UNITS];
    ks_affine(x, input_dim, W, b, units, pre);
    ks_affine(h, units, U, NULL, units, rec);
    for (int j = 0; j < units; ++j) h[j] = act(pre[j] + rec[j]);
}
