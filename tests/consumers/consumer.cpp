/* SPDX-License-Identifier: MIT */
// A C++ program including nn.h (extern "C" declarations, no casts needed)
// built against an installed libnn with pkg-config. Owns the model through
// std::unique_ptr, checks the version and an error path, and learns XOR.
#include <nn.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace {

struct model_deleter {
    void operator()(nn_model *m) const { nn_model_free(m); }
};
typedef std::unique_ptr<nn_model, model_deleter> model_ptr;

bool ok(nn_status s)
{
    if (s == NN_OK)
        return true;
    std::fprintf(stderr, "%s: %s\n", nn_status_string(s), nn_last_error());
    return false;
}

} // namespace

int main()
{
    const std::vector<float> x = {0, 0, 0, 1, 1, 0, 1, 1};
    const std::vector<float> t = {0, 1, 1, 0};
    std::vector<float> y(4);

    if (nn_version_number() != NN_VERSION_NUMBER)
        return 1;
    nn_model *raw = nullptr;
    if (!ok(nn_model_create(&raw, 2, 7)))
        return 1;
    model_ptr m(raw);
    if (!ok(nn_model_add_dense(m.get(), 4, NN_ACT_TANH)) ||
        !ok(nn_model_add_dense(m.get(), 1, NN_ACT_SIGMOID)) ||
        !ok(nn_model_set_loss(m.get(), NN_LOSS_BCE)) ||
        !ok(nn_model_set_param(m.get(), NN_PARAM_LEARNING_RATE, 0.5)))
        return 1;

    // A width that disagrees with the model is a status and a message.
    if (nn_model_predict(m.get(), 4, x.data(), 3, y.data(), 1) != NN_E_SHAPE ||
        std::strstr(nn_last_error(), "nn_model_predict") == nullptr) {
        std::fprintf(stderr, "expected NN_E_SHAPE naming nn_model_predict\n");
        return 1;
    }

    double loss = 0;
    for (int i = 0; i < 2000; i++)
        if (!ok(nn_model_train_batch(m.get(), 4, x.data(), 2, t.data(), 1,
                                     &loss)))
            return 1;
    if (!ok(nn_model_predict(m.get(), 4, x.data(), 2, y.data(), 1)))
        return 1;
    for (int i = 0; i < 4; i++)
        if ((y[i] > 0.5f) != (t[i] > 0.5f))
            return 1;
    std::printf("C++ consumer: libnn %s learned XOR (loss %.4f)\n",
                nn_version_string(), loss);
    return 0;
}
