// N-API addon: the hot TensorFlow.js kernels on oneDNN 2.6 (Debian's libdnnl-dev).
//
// Every function works on caller-owned Float32Arrays (the tfjs cpu backend's data store),
// NHWC activations as they are, so no copy happens except where oneDNN wants a blocked
// weight layout: those reorders are cached per weight array (see WeightCache) and
// primitives are cached per shape (creating them is the slow part).
#include <napi.h>

#include <dnnl.hpp>
#include <omp.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;
using dims = memory::dims;

namespace {

engine &eng() {
  static engine e(engine::kind::cpu, 0);
  return e;
}
stream &strm() {
  static stream s(eng());
  return s;
}

// Which implementation oneDNN picked for each kind of primitive (for onednnInfo()).
std::map<std::string, std::string> g_impls;
void noteImpl(const char *kind, const primitive_desc_base &pd) {
  g_impls[kind] = pd.impl_info_str();
}

float *f32(const Napi::Value &v) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  return v.As<Napi::Float32Array>().Data();
}
std::vector<int64_t> ints(const Napi::Value &v) {
  auto a = v.As<Napi::Int32Array>();
  return std::vector<int64_t>(a.Data(), a.Data() + a.ElementLength());
}

// Binary key for the primitive caches.
std::string key(char kind, const std::vector<int64_t> &p, std::initializer_list<double> extra = {}) {
  std::string k(1, kind);
  k.append(reinterpret_cast<const char *>(p.data()), p.size() * sizeof(int64_t));
  for (double d : extra) k.append(reinterpret_cast<const char *>(&d), sizeof d);
  return k;
}

// Find or create the cached primitive for key `k`.
template <class T, class Make>
T &cached(std::unordered_map<std::string, std::unique_ptr<T>> &m, const std::string &k, Make make) {
  auto it = m.find(k);
  if (it == m.end()) it = m.emplace(k, std::unique_ptr<T>(make())).first;
  return *it->second;
}

// Reordered copies of one weight array, one per layout asked for. Lives as long as the
// JS Float32Array it belongs to (JS keeps it in a WeakMap keyed by that array).
// `fresh[i]` says whether copy i holds the array's current values: an announced in-place write
// (the Adam step, every step for trained weights) clears them all, and the next use reorders into
// the same buffer. (Dropping the cache instead made every trained conv weight allocate a new
// reordered copy each step, ~94 MB of fresh pages for ResNet50, and its convolutions 1.5x slower.)
struct WeightCache {
  std::vector<std::pair<memory::desc, memory>> copies;
  std::vector<bool> fresh;
  size_t bytes = 0;
};

void runReorder(memory &from, memory &to);  // below, after ThreadRun

// A scratch buffer that grows as needed and is reused: a fresh allocation per call cost its page
// faults each time (3.7 ms instead of 0.9 for 8 MB).
struct Scratch {
  void *buf = nullptr;
  size_t cap = 0;
  void *get(size_t bytes) {
    if (bytes > cap) {
      std::free(buf);
      cap = (bytes + 4095) / 4096 * 4096;
      buf = std::aligned_alloc(4096, cap);
      if (!buf) { cap = 0; throw std::bad_alloc(); }
    }
    return buf;
  }
};

// Destination of an uncached weight reorder (weights a training step has just changed): one
// buffer, since a call reorders one weight array and uses it at once.
void *reorderScratch(size_t bytes) {
  static Scratch s;
  return s.get(bytes);
}

// The weights in the layout `want`: the user's memory when it already matches,
// else a reorder (kept in `cache` when there is one, so it happens once per array).
memory weightsAs(const memory::desc &want, const memory::desc &user_md, float *data,
                 WeightCache *cache, Napi::Env env) {
  memory user(user_md, eng(), data);
  if (want == user_md) return user;
  if (cache)
    for (size_t i = 0; i < cache->copies.size(); i++)
      if (cache->copies[i].first == want) {
        if (!cache->fresh[i]) {
          runReorder(user, cache->copies[i].second);
          cache->fresh[i] = true;
        }
        return cache->copies[i].second;
      }
  memory m = cache ? memory(want, eng()) : memory(want, eng(), reorderScratch(want.get_size()));
  runReorder(user, m);
  if (cache) {
    cache->copies.emplace_back(want, m);
    cache->fresh.push_back(true);
    cache->bytes += want.get_size();
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(want.get_size()));
  }
  return m;
}

WeightCache *cacheArg(const Napi::Value &v) {
  if (!v.IsExternal()) return nullptr;
  return v.As<Napi::External<WeightCache>>().Data();
}

// Conv parameters, as the JS side packs them (all NHWC / HWIO):
// [N, IH, IW, IC, KH, KW, OC, OH, OW, SH, SW, DH, DW, PT, PL, PB, PR]
struct ConvGeom {
  memory::desc src, dst, wuser, wany, bias;
  dims strides, dil, pl, pr;
  explicit ConvGeom(const std::vector<int64_t> &p) {
    if (p.size() != 17) throw std::runtime_error("conv params must have 17 entries");
    int64_t N = p[0], IH = p[1], IW = p[2], IC = p[3], KH = p[4], KW = p[5], OC = p[6],
            OH = p[7], OW = p[8];
    src = memory::desc({N, IC, IH, IW}, dt::f32, tag::nhwc);
    dst = memory::desc({N, OC, OH, OW}, dt::f32, tag::nhwc);
    wuser = memory::desc({OC, IC, KH, KW}, dt::f32, tag::hwio);
    wany = memory::desc({OC, IC, KH, KW}, dt::f32, tag::any);
    bias = memory::desc({OC}, dt::f32, tag::x);
    strides = {p[9], p[10]};
    dil = {p[11] - 1, p[12] - 1};  // oneDNN counts dilation from 0
    pl = {p[13], p[14]};
    pr = {p[15], p[16]};
  }
  convolution_forward::primitive_desc forwardHint() const {
    convolution_forward::desc d(prop_kind::forward_training, algorithm::convolution_direct, src,
                                wany, dst, strides, dil, pl, pr);
    return convolution_forward::primitive_desc(d, eng());
  }
};

// Activations the fused tfjs kernels know: linear relu relu6 elu leakyrelu sigmoid.
void appendActivation(post_ops &po, int act, float alpha) {
  switch (act) {
    case 0: break;
    case 1: po.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f); break;
    case 2: po.append_eltwise(1.f, algorithm::eltwise_clip, 0.f, 6.f); break;
    case 3: po.append_eltwise(1.f, algorithm::eltwise_elu, 1.f, 0.f); break;
    case 4: po.append_eltwise(1.f, algorithm::eltwise_relu, alpha, 0.f); break;
    case 5: po.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f); break;
    default: throw std::runtime_error("unknown activation code");
  }
}

// Each primitive runs on 1 thread or on all, whichever has been faster for its shape (timed on
// the calls after each variant's first, as a running average, the other variant retried every
// 16th call). On a quiet machine all threads win wherever there is work to share; when other
// processes hold a core, an OpenMP team waits for its descheduled thread at every barrier (a
// scheduler slice, several ms) and a small convolution is faster alone. A variant is created
// under its own thread count, since oneDNN sizes a kernel's work split when it is created.
// ONEDNN_ADAPTIVE_THREADS=0 keeps all threads.
const int g_allThreads = std::max(1, omp_get_max_threads());
bool adaptiveThreads() {
  static bool on = [] {
    const char *e = std::getenv("ONEDNN_ADAPTIVE_THREADS");
    return !(e && std::string(e) == "0");
  }();
  return on && g_allThreads > 1;
}
// Op determinism (setDeterministic, on while a random seed is set): every pick is "all threads",
// since a sum split over another number of threads rounds differently and two seeded runs would
// drift apart in the last digits (then in the metrics). Slower only when other processes hold a core.
bool g_deterministic = false;
struct ThreadPick {
  double ms[2] = {0, 0};  // [1 thread, all threads]
  bool seen[2] = {false, false};
  int64_t calls = 0;
  int pick() {
    if (!adaptiveThreads() || g_deterministic) return 1;
    calls++;
    int best = !seen[1] ? 1 : !seen[0] || ms[0] == 0 ? (ms[1] == 0 ? 1 : 0) : (ms[1] <= ms[0] ? 1 : 0);
    if (ms[0] != 0 && ms[1] != 0 && calls % 16 == 0) best = 1 - best;
    return best;
  }
  void record(int v, double t) {
    if (!seen[v]) { seen[v] = true; return; }  // the first call creates the primitive
    ms[v] = ms[v] == 0 ? t : 0.7 * ms[v] + 0.3 * t;
  }
};
std::unordered_map<std::string, ThreadPick> g_picks;

// Scope of one primitive call: sets the thread count, names the variant, times the call.
class ThreadRun {
 public:
  explicit ThreadRun(const std::string &k) : pick_(&g_picks[k]), v_(pick_->pick()), prev_(omp_get_max_threads()),
      key_(k + char('0' + v_)), t0_(std::chrono::steady_clock::now()) {
    omp_set_num_threads(v_ ? g_allThreads : 1);
  }
  ~ThreadRun() {
    pick_->record(v_, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count());
    omp_set_num_threads(prev_);
  }
  const std::string &key() const { return key_; }

 private:
  ThreadPick *pick_;
  int v_, prev_;
  std::string key_;
  std::chrono::steady_clock::time_point t0_;
};

// A weight reorder (tfjs' HWIO to the blocked layout a convolution wants, or its weight gradient
// back) is a memory-bound copy that runs inside a convolution call, but it gets its own pick of 1
// or all threads, per layout pair: under load an OpenMP team made an 8 MB reorder take ~20 ms
// instead of ~1 (measured), and on a ResNet50 step at 32 px the reorders were the largest item.
std::string reorderKey(const memory &from, const memory &to) {
  std::vector<int64_t> p;
  for (const memory *m : {&from, &to}) {  // field by field: the struct has padding bytes
    const dnnl_memory_desc_t d = m->get_desc().data;
    p.push_back(d.ndims);
    p.push_back(d.format_kind);
    const auto &b = d.format_desc.blocking;
    for (int i = 0; i < d.ndims; i++) p.insert(p.end(), {d.dims[i], d.padded_dims[i], b.strides[i]});
    p.push_back(b.inner_nblks);
    for (int i = 0; i < b.inner_nblks; i++) p.insert(p.end(), {b.inner_blks[i], b.inner_idxs[i]});
  }
  return key('r', p);
}
void runReorder(memory &from, memory &to) {
  ThreadRun run(reorderKey(from, to));
  reorder(from, to).execute(strm(), from, to);
  strm().wait();
}

struct ConvFwd {
  convolution_forward::primitive_desc pd;
  convolution_forward prim;
  ConvGeom g;
};
std::unordered_map<std::string, std::unique_ptr<ConvFwd>> g_convFwd;

// conv2dForward(x, w, bias|null, y, params, act, alpha, weightCache|undefined)
Napi::Value Conv2dForward(const Napi::CallbackInfo &info) {
  auto p = ints(info[4]);
  float *bias = f32(info[2]);
  int act = info[5].As<Napi::Number>().Int32Value();
  float alpha = info[6].As<Napi::Number>().FloatValue();
  ThreadRun run(key('c', p, {double(act), alpha, bias ? 1.0 : 0.0}));
  ConvFwd &c = cached(g_convFwd, run.key(), [&] {
    ConvGeom g(p);
    auto d = bias ? convolution_forward::desc(prop_kind::forward_inference,
                                              algorithm::convolution_direct, g.src, g.wany,
                                              g.bias, g.dst, g.strides, g.dil, g.pl, g.pr)
                  : convolution_forward::desc(prop_kind::forward_inference,
                                              algorithm::convolution_direct, g.src, g.wany,
                                              g.dst, g.strides, g.dil, g.pl, g.pr);
    post_ops po;
    appendActivation(po, act, alpha);
    primitive_attr attr;
    attr.set_post_ops(po);
    convolution_forward::primitive_desc pd(d, attr, eng());
    noteImpl("conv_fwd", pd);
    return new ConvFwd{pd, convolution_forward(pd), g};
  });
  memory src(c.g.src, eng(), f32(info[0]));
  memory dst(c.g.dst, eng(), f32(info[3]));
  memory w = weightsAs(c.pd.weights_desc(), c.g.wuser, f32(info[1]), cacheArg(info[7]), info.Env());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst}};
  if (bias) args.emplace(DNNL_ARG_BIAS, memory(c.g.bias, eng(), bias));
  c.prim.execute(strm(), args);
  strm().wait();
  return info.Env().Undefined();
}

struct ConvBwdData {
  convolution_backward_data::primitive_desc pd;
  convolution_backward_data prim;
  ConvGeom g;
};
std::unordered_map<std::string, std::unique_ptr<ConvBwdData>> g_convBwdData;

// conv2dBackwardData(dy, w, dx, params, weightCache|undefined)
Napi::Value Conv2dBackwardData(const Napi::CallbackInfo &info) {
  auto p = ints(info[3]);
  ThreadRun run(key('d', p));
  ConvBwdData &c = cached(g_convBwdData, run.key(), [&] {
    ConvGeom g(p);
    convolution_backward_data::desc d(algorithm::convolution_direct, g.src, g.wany, g.dst,
                                      g.strides, g.dil, g.pl, g.pr);
    convolution_backward_data::primitive_desc pd(d, eng(), g.forwardHint());
    noteImpl("conv_bwd_data", pd);
    return new ConvBwdData{pd, convolution_backward_data(pd), g};
  });
  memory dy(c.g.dst, eng(), f32(info[0]));
  memory dx(c.g.src, eng(), f32(info[2]));
  memory w = weightsAs(c.pd.weights_desc(), c.g.wuser, f32(info[1]), cacheArg(info[4]), info.Env());
  c.prim.execute(strm(), {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, dx}});
  strm().wait();
  return info.Env().Undefined();
}

struct ConvBwdWeights {
  convolution_backward_weights::primitive_desc pd;
  convolution_backward_weights prim;
  ConvGeom g;
  memory scratchWeights;  // oneDNN's preferred diff-weights layout, when it is not HWIO
};
std::unordered_map<std::string, std::unique_ptr<ConvBwdWeights>> g_convBwdWeights;

// The weight gradient as a matrix product: dW[(kh, kw, ic), oc] = sum over output pixels p of
// col[p, (kh, kw, ic)] * dy[p, oc], where col is x's patches (im2col) and the result is HWIO as it
// stands. Why: oneDNN 2.6's jit:avx2 backward-weights kernels reach 20-30 GFLOP/s on one core of
// this AVX2 machine (AMD EPYC, ~78 GFLOP/s FMA peak, ~37 for any sgemm), and less where the
// output is small (VGG16 at 32 px: 22 GFLOP/s on 4x4 maps, 14 on 2x2, where it falls back to
// gemm:jit itself), while its sgemm holds ~37-42 GFLOP/s on the same products, and writes HWIO, so
// the blocked gradient's reorder goes too. Measured per layer on one core (ms, jit vs im2col+gemm):
// VGG16 32 px batch 32: 32x32 64->64 83 vs 78, 8x8 256->256 71 vs 63, 4x4 512->512 111 vs 60,
// 2x2 512->512 43 vs 15; ResNet50 1x1 convs 8-14 vs 6-8. It loses where the patches are many and
// thin (7x7/2 3->64: 21 vs 31; 37x37 32->32: 28 vs 32), so it is used for a 1x1 stride-1
// convolution (x itself is the column matrix: no copy) and where both channel counts are >= 64.
// The choice depends on the shape alone, so a seeded run stays reproducible.
// The patches are copied kColBytes at a time (whole rows of col, each chunk's product added
// to the last), so a 224 px input needs no 100 MB column matrix, and a chunk is still in the cache
// when the product reads it (4 MB chunks ran VGG16's 32x32 64->64 layer in 73 ms, 16 MB in 80).
// At least kMinColRows rows a chunk, since each chunk also reads and writes all of dW (9 MB for a
// 3x3 512->512 layer): with fewer rows that traffic outweighs the product.
constexpr int64_t kColBytes = 4 << 20, kMinColRows = 512;
struct GemmBwdW {
  int64_t N, IH, IW, IC, KH, KW, OC, OH, OW, SH, SW, DH, DW, PT, PL;
  bool direct;          // 1x1, stride 1, no padding: x is col
  int64_t rows;         // rows of col per chunk
  matmul first, acc, accLast;  // the first chunk's product; later chunks added (sum post-op)
};
std::unordered_map<std::string, std::unique_ptr<GemmBwdW>> g_gemmBwdW;
std::map<std::string, int64_t> g_paths;  // calls per implementation choice, for onednnInfo()

// ONEDNN_BWDW_GEMM=0 keeps oneDNN's own kernel for every shape (for comparisons).
bool gemmBwdWeights(const std::vector<int64_t> &p) {
  static const bool on = [] {
    const char *e = std::getenv("ONEDNN_BWDW_GEMM");
    return !(e && std::string(e) == "0");
  }();
  if (!on) return false;
  const int64_t IC = p[3], KH = p[4], KW = p[5], OC = p[6];
  const bool direct = KH == 1 && KW == 1 && p[9] == 1 && p[10] == 1 && p[13] == 0 && p[14] == 0 &&
                      p[15] == 0 && p[16] == 0;
  return direct || (IC >= 64 && OC >= 64);
}

// Scratch for the column chunks (one buffer, as reorderScratch).
float *colScratch(size_t bytes) {
  static Scratch s;
  return static_cast<float *>(s.get(bytes));
}

GemmBwdW *makeGemmBwdW(const std::vector<int64_t> &p) {
  auto *g = new GemmBwdW{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11],
                         p[12], p[13], p[14], false, 0, {}, {}, {}};
  g->direct = gemmBwdWeights(p) && g->KH == 1 && g->KW == 1 && g->SH == 1 && g->SW == 1 &&
              g->PT == 0 && g->PL == 0 && p[15] == 0 && p[16] == 0;
  const int64_t P = g->N * g->OH * g->OW, Kc = g->KH * g->KW * g->IC;
  g->rows = g->direct ? P : std::min(P, std::max(kMinColRows, kColBytes / (Kc * 4)));
  auto product = [&](int64_t rows, bool sum) {
    memory::desc a({Kc, rows}, dt::f32, dims{1, Kc});  // col^T
    memory::desc b({rows, g->OC}, dt::f32, dims{g->OC, 1});
    memory::desc c({Kc, g->OC}, dt::f32, dims{g->OC, 1});
    primitive_attr attr;
    if (sum) {
      post_ops po;
      po.append_sum(1.f);
      attr.set_post_ops(po);
    }
    matmul::primitive_desc pd(matmul::desc(a, b, c), attr, eng());
    noteImpl("conv_bwd_weights_gemm", pd);
    return matmul(pd);
  };
  g->first = product(g->rows, false);
  if (g->rows < P) {
    g->acc = product(g->rows, true);
    if (P % g->rows) g->accLast = product(P % g->rows, true);
  }
  return g;
}

// col rows [lo, hi) (output pixels in n, oh, ow order) from x; zeros where a patch reaches the padding.
void im2col(const GemmBwdW &g, const float *x, float *col, int64_t lo, int64_t hi) {
  const int64_t Kc = g.KH * g.KW * g.IC;
#pragma omp parallel for schedule(static)
  for (int64_t r = lo; r < hi; r++) {
    const int64_t n = r / (g.OH * g.OW), oh = r / g.OW % g.OH, ow = r % g.OW;
    float *c = col + (r - lo) * Kc;
    for (int64_t kh = 0; kh < g.KH; kh++) {
      const int64_t ih = oh * g.SH - g.PT + kh * g.DH;
      for (int64_t kw = 0; kw < g.KW; kw++, c += g.IC) {
        const int64_t iw = ow * g.SW - g.PL + kw * g.DW;
        if (ih < 0 || ih >= g.IH || iw < 0 || iw >= g.IW)
          std::memset(c, 0, g.IC * sizeof(float));
        else
          std::memcpy(c, x + ((n * g.IH + ih) * g.IW + iw) * g.IC, g.IC * sizeof(float));
      }
    }
  }
}

void gemmBwdWeightsRun(const GemmBwdW &g, float *x, float *dy, float *dw) {
  const int64_t P = g.N * g.OH * g.OW, Kc = g.KH * g.KW * g.IC;
  memory::desc cd({Kc, g.OC}, dt::f32, dims{g.OC, 1});
  memory dwm(cd, eng(), dw);
  if (g.direct) {
    memory a(memory::desc({Kc, P}, dt::f32, dims{1, Kc}), eng(), x);
    memory b(memory::desc({P, g.OC}, dt::f32, dims{g.OC, 1}), eng(), dy);
    g.first.execute(strm(), {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, dwm}});
    strm().wait();
    return;
  }
  float *col = colScratch(size_t(g.rows * Kc) * sizeof(float));
  for (int64_t lo = 0; lo < P; lo += g.rows) {
    const int64_t rows = std::min(g.rows, P - lo);
    im2col(g, x, col, lo, lo + rows);
    memory a(memory::desc({Kc, rows}, dt::f32, dims{1, Kc}), eng(), col);
    memory b(memory::desc({rows, g.OC}, dt::f32, dims{g.OC, 1}), eng(), dy + lo * g.OC);
    const matmul &m = lo == 0 ? g.first : rows == g.rows ? g.acc : g.accLast;
    m.execute(strm(), {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, dwm}});
    strm().wait();
  }
}

// conv2dBackwardWeights(x, dy, dw, params)
Napi::Value Conv2dBackwardWeights(const Napi::CallbackInfo &info) {
  auto p = ints(info[3]);
  ThreadRun run(key('w', p));
  if (gemmBwdWeights(p)) {
    GemmBwdW &g = cached(g_gemmBwdW, run.key(), [&] { return makeGemmBwdW(p); });
    g_paths["conv_bwd_weights:im2col_gemm"]++;
    gemmBwdWeightsRun(g, f32(info[0]), f32(info[1]), f32(info[2]));
    return info.Env().Undefined();
  }
  g_paths["conv_bwd_weights:onednn"]++;
  ConvBwdWeights &c = cached(g_convBwdWeights, run.key(), [&] {
    ConvGeom g(p);
    convolution_backward_weights::desc d(algorithm::convolution_direct, g.src, g.wany, g.dst,
                                         g.strides, g.dil, g.pl, g.pr);
    convolution_backward_weights::primitive_desc pd(d, eng(), g.forwardHint());
    noteImpl("conv_bwd_weights", pd);
    memory scratch;
    if (pd.diff_weights_desc() != g.wuser) scratch = memory(pd.diff_weights_desc(), eng());
    return new ConvBwdWeights{pd, convolution_backward_weights(pd), g, scratch};
  });
  memory x(c.g.src, eng(), f32(info[0]));
  memory dy(c.g.dst, eng(), f32(info[1]));
  memory dw(c.g.wuser, eng(), f32(info[2]));
  memory out = c.scratchWeights ? c.scratchWeights : dw;
  c.prim.execute(strm(), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_WEIGHTS, out}});
  if (c.scratchWeights) {
    strm().wait();
    runReorder(out, dw);
  }
  strm().wait();
  return info.Env().Undefined();
}

struct MatMul {
  matmul::primitive_desc pd;
  matmul prim;
  memory::desc a, b, c, bias;
};
std::unordered_map<std::string, std::unique_ptr<MatMul>> g_matmul;

// matmul(a, b, bias|null, c, params [Ba, Bb, M, K, N, transA, transB], act, alpha)
// a is [Ba, M, K] ([Ba, K, M] when transposed), b is [Bb, K, N] ([Bb, N, K]), c is [B, M, N];
// a batch of 1 broadcasts.
Napi::Value MatMulF(const Napi::CallbackInfo &info) {
  auto p = ints(info[4]);
  float *bias = f32(info[2]);
  int act = info[5].As<Napi::Number>().Int32Value();
  float alpha = info[6].As<Napi::Number>().FloatValue();
  ThreadRun run(key('m', p, {double(act), alpha, bias ? 1.0 : 0.0}));
  MatMul &m = cached(g_matmul, run.key(), [&] {
    int64_t Ba = p[0], Bb = p[1], M = p[2], K = p[3], N = p[4];
    int64_t B = std::max(Ba, Bb);
    memory::desc a({Ba, M, K}, dt::f32, p[5] ? dims{M * K, 1, M} : dims{M * K, K, 1});
    memory::desc b({Bb, K, N}, dt::f32, p[6] ? dims{K * N, 1, K} : dims{K * N, N, 1});
    memory::desc c({B, M, N}, dt::f32, dims{M * N, N, 1});
    memory::desc bd({1, 1, N}, dt::f32, dims{N, N, 1});
    auto d = bias ? matmul::desc(a, b, bd, c) : matmul::desc(a, b, c);
    post_ops po;
    appendActivation(po, act, alpha);
    primitive_attr attr;
    attr.set_post_ops(po);
    matmul::primitive_desc pd(d, attr, eng());
    noteImpl("matmul", pd);
    return new MatMul{pd, matmul(pd), a, b, c, bd};
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(m.a, eng(), f32(info[0]))},
                                       {DNNL_ARG_WEIGHTS, memory(m.b, eng(), f32(info[1]))},
                                       {DNNL_ARG_DST, memory(m.c, eng(), f32(info[3]))}};
  if (bias) args.emplace(DNNL_ARG_BIAS, memory(m.bias, eng(), bias));
  m.prim.execute(strm(), args);
  strm().wait();
  return info.Env().Undefined();
}

// Pool parameters: [N, IH, IW, C, KH, KW, OH, OW, SH, SW, PT, PL, PB, PR]
struct Pool {
  pooling_forward::primitive_desc fwd;
  pooling_forward fprim;
  memory::desc src, dst;
  // Backward only (max pooling needs the forward's workspace, so it reruns the forward).
  bool hasBwd = false;
  pooling_backward::primitive_desc bwd;
  pooling_backward bprim;
  memory scratchDst, workspace;
};
std::unordered_map<std::string, std::unique_ptr<Pool>> g_pool;

// Pooling runs on 1 thread or all, as the convolutions (ThreadRun): `k` is the run's key.
std::string poolKey(const std::vector<int64_t> &p, bool isMax, bool backward) {
  if (p.size() != 14) throw std::runtime_error("pool params must have 14 entries");
  return key(backward ? 'Q' : 'q', p, {isMax ? 1.0 : 0.0});
}
Pool &getPool(const std::string &k, const std::vector<int64_t> &p, bool isMax, bool backward) {
  return cached(g_pool, k, [&] {
    int64_t N = p[0], IH = p[1], IW = p[2], C = p[3];
    memory::desc src({N, C, IH, IW}, dt::f32, tag::nhwc);
    memory::desc dst({N, C, p[6], p[7]}, dt::f32, tag::nhwc);
    dims kernel{p[4], p[5]}, strides{p[8], p[9]}, pl{p[10], p[11]}, pr{p[12], p[13]};
    // TF's average pooling divides by the number of real (unpadded) inputs.
    auto alg = isMax ? algorithm::pooling_max : algorithm::pooling_avg_exclude_padding;
    pooling_forward::desc fd(backward ? prop_kind::forward_training : prop_kind::forward_inference,
                             alg, src, dst, strides, kernel, pl, pr);
    pooling_forward::primitive_desc fpd(fd, eng());
    noteImpl(isMax ? "maxpool" : "avgpool", fpd);
    std::unique_ptr<Pool> pool(new Pool{fpd, pooling_forward(fpd), src, dst, false, {}, {}, {}, {}});
    if (backward) {
      // tfjs' AvgPoolGrad (cpu, webgl) divides by the whole window even where the forward
      // divided by the unpadded count; match it so all backends train alike.
      auto balg = isMax ? alg : algorithm::pooling_avg_include_padding;
      pooling_forward::desc hint(prop_kind::forward_training, balg, src, dst, strides, kernel, pl, pr);
      pooling_backward::desc bd(balg, src, dst, strides, kernel, pl, pr);
      pool->bwd = pooling_backward::primitive_desc(bd, eng(), pooling_forward::primitive_desc(hint, eng()));
      pool->bprim = pooling_backward(pool->bwd);
      pool->hasBwd = true;
      if (isMax) {
        pool->scratchDst = memory(dst, eng());
        pool->workspace = memory(fpd.workspace_desc(), eng());
      }
    }
    return pool.release();
  });
}

// pool(x, y, params, isMax)
Napi::Value PoolF(const Napi::CallbackInfo &info) {
  auto p = ints(info[2]);
  bool isMax = info[3].As<Napi::Boolean>();
  ThreadRun run(poolKey(p, isMax, false));
  Pool &pl = getPool(run.key(), p, isMax, false);
  pl.fprim.execute(strm(), {{DNNL_ARG_SRC, memory(pl.src, eng(), f32(info[0]))},
                            {DNNL_ARG_DST, memory(pl.dst, eng(), f32(info[1]))}});
  strm().wait();
  return info.Env().Undefined();
}

// poolBackward(dy, x|null, dx, params, isMax)
Napi::Value PoolBackward(const Napi::CallbackInfo &info) {
  bool isMax = info[4].As<Napi::Boolean>();
  auto p = ints(info[3]);
  ThreadRun run(poolKey(p, isMax, true));
  Pool &pl = getPool(run.key(), p, isMax, true);
  std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, memory(pl.dst, eng(), f32(info[0]))},
                                       {DNNL_ARG_DIFF_SRC, memory(pl.src, eng(), f32(info[2]))}};
  if (isMax) {
    pl.fprim.execute(strm(), {{DNNL_ARG_SRC, memory(pl.src, eng(), f32(info[1]))},
                              {DNNL_ARG_DST, pl.scratchDst},
                              {DNNL_ARG_WORKSPACE, pl.workspace}});
    args.emplace(DNNL_ARG_WORKSPACE, pl.workspace);
  }
  pl.bprim.execute(strm(), args);
  strm().wait();
  return info.Env().Undefined();
}

// Elementwise kernels: memory-bound. Two threads make them ~3x faster on a quiet machine, but
// on a busy one an OpenMP barrier costs more than it brings (16 ms vs 1.2 ms measured for a
// 6 MB subtract with another process per core). So each large call picks 1 or all threads by
// which has been faster per element lately for that kernel and size (a moving average per choice,
// the other choice retried every 16th call), so cheap calls (a bias gradient's column sums) and
// dearer ones (batch norm) do not decide for each other. ONEDNN_EW_THREADS=n fixes the count.
struct EwThreads {
  struct Stat {
    double nsPerElem[2] = {0, 0};  // [1 thread, all threads]
    int64_t calls = 0;
  };
  std::unordered_map<uint64_t, Stat> stats;  // by kernel and size
  int fixed = [] {
    const char *e = std::getenv("ONEDNN_EW_THREADS");
    return e ? std::max(1, std::atoi(e)) : 0;
  }();
  int all = std::max(1, omp_get_max_threads());
  Stat &at(char kind, int64_t n) { return stats[(uint64_t(uint8_t(kind)) << 56) ^ uint64_t(n)]; }
  int pick(char kind, int64_t n) {
    if (fixed) return fixed;
    if (all == 1) return 1;
    if (g_deterministic) return all;
    Stat &s = at(kind, n);
    s.calls++;
    int best = s.nsPerElem[1] == 0 ? 1 : s.nsPerElem[0] == 0 ? 0 : (s.nsPerElem[1] < s.nsPerElem[0] ? 1 : 0);
    if (s.calls % 16 == 0) best = 1 - best;
    return best ? all : 1;
  }
  // `work`: elements touched, for the per-element time.
  void record(char kind, int64_t n, int nt, int64_t work, std::chrono::steady_clock::time_point t0) {
    if (fixed || work <= 0 || all == 1) return;
    double v = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / work;
    double &c = at(kind, n).nsPerElem[nt > 1 ? 1 : 0];
    c = c == 0 ? v : 0.7 * c + 0.3 * v;
  }
};
EwThreads g_ew;

// Runs f(lo, hi) over [0, n) split evenly across nt threads (or inline when nt == 1, which keeps
// the single-thread loop as plainly vectorised as without OpenMP).
template <class F>
void ewLoop(int64_t n, int nt, F f) {
  if (nt <= 1) return f(int64_t(0), n);
#pragma omp parallel num_threads(nt)
  {
    int64_t T = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t chunk = (n + T - 1) / T, lo = std::min(n, t * chunk), hi = std::min(n, lo + chunk);
    f(lo, hi);
  }
}
constexpr int64_t kParallelMin = 1 << 16;

// batchNorm(x, mean, variance, scale|null, offset|null, y, channels, epsilon):
// y = (x - mean) * scale / sqrt(variance + epsilon) + offset over the last (channel) axis.
Napi::Value BatchNorm(const Napi::CallbackInfo &info) {
  auto xa = info[0].As<Napi::Float32Array>();
  const float *x = xa.Data(), *mean = f32(info[1]), *var = f32(info[2]);
  const float *scale = f32(info[3]), *offset = f32(info[4]);
  float *y = f32(info[5]);
  int64_t C = info[6].As<Napi::Number>().Int64Value();
  float eps = info[7].As<Napi::Number>().FloatValue();
  int64_t rows = static_cast<int64_t>(xa.ElementLength()) / C;
  // y = (x - mean) * a + offset, in the order tfjs' kernels compute it: folding the mean into the
  // offset (x * a + b) saves nothing in a memory-bound pass and loses precision when |mean| is large.
  std::vector<float> a(C), b(C);
  for (int64_t c = 0; c < C; c++) {
    a[c] = float(double(scale ? scale[c] : 1.f) / std::sqrt(double(var[c]) + double(eps)));
    b[c] = offset ? offset[c] : 0.f;
  }
  const float *pa = a.data(), *pb = b.data(), *pm = mean;
  int64_t n = rows * C;
  int nt = n > kParallelMin ? g_ew.pick('n', n) : 1;
  auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * C;
    float *yr = y + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) yr[c] = (xr[c] - pm[c]) * pa[c] + pb[c];
  }
  if (n > kParallelMin) g_ew.record('n', n, nt, n, t0);
  return info.Env().Undefined();
}

// Column sums of K per-row quantities over [rows, C]: out[k * C + c] = sum over r of the value
// add(r, c, k) gives, in float blocks of 64 rows and the blocks in double (as Reduce), split over nt
// threads with a partial sum each. add(r, bl) adds row r's K values into bl[k * C + c].
template <class F>
void columnSums(int64_t rows, int64_t C, int K, int nt, double *out, F add) {
  std::vector<double> partial(size_t(nt) * K * C, 0.0);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t T = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t chunk = (rows + T - 1) / T, lo = std::min(rows, t * chunk), hi = std::min(rows, lo + chunk);
    double *acc = partial.data() + t * K * C;
    std::vector<float> block(size_t(K) * C);
    for (int64_t r0 = lo; r0 < hi; r0 += 64) {
      std::fill(block.begin(), block.end(), 0.f);
      for (int64_t r = r0; r < std::min(hi, r0 + 64); r++) add(r, block.data());
      for (int64_t j = 0; j < K * C; j++) acc[j] += block[j];
    }
  }
  for (int64_t j = 0; j < K * C; j++) {
    double v = 0;
    for (int t = 0; t < nt; t++) v += partial[size_t(t) * K * C + j];
    out[j] = v;
  }
}

// Batch norm with batch statistics (a trainable layer in a training step) over the last axis.
// Params: [N, H, W, C, hasScale, hasShift]. Plain loops rather than oneDNN's batch norm primitive:
// that one synchronises its threads inside each call, and with another process on a core a call
// took 60 ms where a pass over the same data takes 1.
//   bnormTrain(x, scale|null, shift|null, y, mean, variance, params, eps): the mean, the biased
//   variance (two passes, for precision), y = (x - mean) * scale / sqrt(variance + eps) + shift.
Napi::Value BnormTrain(const Napi::CallbackInfo &info) {
  const float *x = f32(info[0]), *scale = f32(info[1]), *shift = f32(info[2]);
  float *y = f32(info[3]), *mean = f32(info[4]), *var = f32(info[5]);
  auto p = ints(info[6]);
  float eps = info[7].As<Napi::Number>().FloatValue();
  if (p.size() != 6) throw std::runtime_error("batch norm params must have 6 entries");
  int64_t C = p[3], rows = p[0] * p[1] * p[2], n = rows * C;
  if (info[0].As<Napi::Float32Array>().ElementLength() != size_t(n)) throw std::runtime_error("bnormTrain: size");
  int nt = n > kParallelMin ? g_ew.pick('T', n) : 1;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<double> s(C);
  columnSums(rows, C, 1, nt, s.data(), [=](int64_t r, float *bl) {
    const float *xr = x + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) bl[c] += xr[c];
  });
  std::vector<float> m(C), a(C), b(C);
  for (int64_t c = 0; c < C; c++) mean[c] = m[c] = float(s[c] / double(rows));
  const float *pm = m.data();
  columnSums(rows, C, 1, nt, s.data(), [=](int64_t r, float *bl) {
    const float *xr = x + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) { float d = xr[c] - pm[c]; bl[c] += d * d; }
  });
  for (int64_t c = 0; c < C; c++) {
    var[c] = float(s[c] / double(rows));
    a[c] = float(double(scale ? scale[c] : 1.f) / std::sqrt(double(var[c]) + double(eps)));
    b[c] = shift ? shift[c] : 0.f;
  }
  const float *pa = a.data(), *pb = b.data();
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * C;
    float *yr = y + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) yr[c] = (xr[c] - pm[c]) * pa[c] + pb[c];
  }
  if (n > kParallelMin) g_ew.record('T', n, nt, 3 * n, t0);
  return info.Env().Undefined();
}

// bnormTrainBackward(x, dy, mean, variance, scale|null, shift|null, dx, dscale|null, dshift|null,
// params, eps): with k = 1 / sqrt(variance + eps), xhat = (x - mean) k, dshift = sum dy,
// dscale = sum dy xhat, dx = scale k (dy - dshift / rows - xhat dscale / rows).
Napi::Value BnormTrainBackward(const Napi::CallbackInfo &info) {
  const float *x = f32(info[0]), *dy = f32(info[1]), *mean = f32(info[2]), *var = f32(info[3]);
  const float *scale = f32(info[4]);
  float *dx = f32(info[6]), *dscale = f32(info[7]), *dshift = f32(info[8]);
  auto p = ints(info[9]);
  float eps = info[10].As<Napi::Number>().FloatValue();
  if (p.size() != 6) throw std::runtime_error("batch norm params must have 6 entries");
  int64_t C = p[3], rows = p[0] * p[1] * p[2], n = rows * C;
  if (info[0].As<Napi::Float32Array>().ElementLength() != size_t(n) ||
      info[1].As<Napi::Float32Array>().ElementLength() != size_t(n))
    throw std::runtime_error("bnormTrainBackward: size");
  int nt = n > kParallelMin ? g_ew.pick('B', n) : 1;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<double> s(2 * C);
  columnSums(rows, C, 2, nt, s.data(), [=](int64_t r, float *bl) {
    const float *xr = x + r * C, *dyr = dy + r * C;
    float *b2 = bl + C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) { bl[c] += dyr[c]; b2[c] += dyr[c] * (xr[c] - mean[c]); }
  });
  std::vector<float> k(C), g(C), u(C), w(C);
  for (int64_t c = 0; c < C; c++) {
    double kc = 1.0 / std::sqrt(double(var[c]) + double(eps));
    double ds = s[C + c] * kc;  // sum dy * xhat
    if (dshift) dshift[c] = float(s[c]);
    if (dscale) dscale[c] = float(ds);
    double gk = double(scale ? scale[c] : 1.f) * kc;
    g[c] = float(gk);                                // dx = g (dy - u - (x - mean) w)
    u[c] = float(s[c] / double(rows));
    w[c] = float(ds * kc / double(rows));
  }
  const float *pg = g.data(), *pu = u.data(), *pw = w.data();
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * C, *dyr = dy + r * C;
    float *dxr = dx + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) dxr[c] = pg[c] * (dyr[c] - pu[c] - (xr[c] - mean[c]) * pw[c]);
  }
  if (n > kParallelMin) g_ew.record('B', n, nt, 2 * n, t0);
  return info.Env().Undefined();
}

// relu(x, y): y = max(x, 0)
Napi::Value Relu(const Napi::CallbackInfo &info) {
  auto xa = info[0].As<Napi::Float32Array>();
  const float *x = xa.Data();
  float *y = f32(info[1]);
  int64_t n = static_cast<int64_t>(xa.ElementLength());
  int nt = n > kParallelMin ? g_ew.pick('r', n) : 1;
  auto t0 = std::chrono::steady_clock::now();
  ewLoop(n, nt, [=](int64_t lo, int64_t hi) {
#pragma omp simd
    for (int64_t i = lo; i < hi; i++) y[i] = x[i] < 0.f ? 0.f : x[i];  // NaN stays NaN, like tfjs
  });
  if (n > kParallelMin) g_ew.record('r', n, nt, n, t0);
  return info.Env().Undefined();
}

// unary(op, x, y): op 0 sqrt, 1 square, 2 rsqrt, 3 neg, 4 abs (an optimizer's update is a chain
// of these over every weight; tfjs' cpu kernels run them as JS loops).
Napi::Value Unary(const Napi::CallbackInfo &info) {
  int op = info[0].As<Napi::Number>().Int32Value();
  auto xa = info[1].As<Napi::Float32Array>();
  const float *x = xa.Data();
  float *y = f32(info[2]);
  int64_t n = static_cast<int64_t>(xa.ElementLength());
  if (info[2].As<Napi::Float32Array>().ElementLength() != size_t(n)) throw std::runtime_error("unary: sizes differ");
  int nt = n > kParallelMin ? g_ew.pick('u', n) : 1;
  auto t0 = std::chrono::steady_clock::now();
  auto run = [&](auto f) {
    ewLoop(n, nt, [=](int64_t lo, int64_t hi) {
#pragma omp simd
      for (int64_t i = lo; i < hi; i++) y[i] = f(x[i]);
    });
  };
  switch (op) {
    case 0: run([](float v) { return std::sqrt(v); }); break;
    case 1: run([](float v) { return v * v; }); break;
    case 2: run([](float v) { return 1.f / std::sqrt(v); }); break;
    case 3: run([](float v) { return -v; }); break;
    case 4: run([](float v) { return std::fabs(v); }); break;
    default: throw std::runtime_error("unary: unknown op");
  }
  if (n > kParallelMin) g_ew.record('u', n, nt, n, t0);
  return info.Env().Undefined();
}

// binary(op, big, small, y, outer, mid, inner, swapped): big is [outer, mid, inner], small is
// [outer, inner] (broadcast along mid), y like big; y = big op small, or small op big when
// swapped. op: 0 add, 1 sub, 2 mul, 3 div. Covers equal shapes, a bias [C] over NHWC and
// per-sample vectors [N, 1, 1, C].
Napi::Value Binary(const Napi::CallbackInfo &info) {
  int op = info[0].As<Napi::Number>().Int32Value();
  const float *a = f32(info[1]), *b = f32(info[2]);
  float *y = f32(info[3]);
  int64_t outer = info[4].As<Napi::Number>().Int64Value(), mid = info[5].As<Napi::Number>().Int64Value(),
          inner = info[6].As<Napi::Number>().Int64Value();
  bool swapped = info[7].As<Napi::Boolean>();
  if (info[1].As<Napi::Float32Array>().ElementLength() != size_t(outer * mid * inner) ||
      info[2].As<Napi::Float32Array>().ElementLength() != size_t(outer * inner))
    throw std::runtime_error("binary: sizes do not match outer/mid/inner");
  int64_t n = outer * mid * inner;
  int nt = n > kParallelMin ? g_ew.pick('b', n) : 1;
  auto t0 = std::chrono::steady_clock::now();
  auto run = [&](auto f) {
    for (int64_t o = 0; o < outer; o++) {
      const float *bo = b + o * inner;
      if (inner == 1) {  // one small value per outer index (a scalar when outer == 1)
        const float q = bo[0];
        const float *ar = a + o * mid;
        float *yr = y + o * mid;
#pragma omp parallel for simd schedule(static) num_threads(nt) if (nt > 1 && mid > kParallelMin)
        for (int64_t m = 0; m < mid; m++) yr[m] = f(ar[m], q);
        continue;
      }
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1 && mid * inner > kParallelMin)
      for (int64_t m = 0; m < mid; m++) {
        const float *ar = a + (o * mid + m) * inner;
        float *yr = y + (o * mid + m) * inner;
#pragma omp simd
        for (int64_t j = 0; j < inner; j++) yr[j] = f(ar[j], bo[j]);
      }
    }
  };
  switch (op * 2 + (swapped ? 1 : 0)) {
    case 0: case 1: run([](float p, float q) { return p + q; }); break;
    case 2: run([](float p, float q) { return p - q; }); break;
    case 3: run([](float p, float q) { return q - p; }); break;
    case 4: case 5: run([](float p, float q) { return p * q; }); break;
    case 6: run([](float p, float q) { return p / q; }); break;
    case 7: run([](float p, float q) { return q / p; }); break;
    default: throw std::runtime_error("binary: unknown op");
  }
  if (n > kParallelMin) g_ew.record('b', n, nt, n, t0);
  return info.Env().Undefined();
}

// reduce(op, x, y, outer, mid, inner): y[o, i] = sum (op 0) or mean (op 1) over m of x[o, m, i].
Napi::Value Reduce(const Napi::CallbackInfo &info) {
  int op = info[0].As<Napi::Number>().Int32Value();
  const float *x = f32(info[1]);
  float *y = f32(info[2]);
  int64_t outer = info[3].As<Napi::Number>().Int64Value(), mid = info[4].As<Napi::Number>().Int64Value(),
          inner = info[5].As<Napi::Number>().Int64Value();
  if (info[1].As<Napi::Float32Array>().ElementLength() != size_t(outer * mid * inner) ||
      info[2].As<Napi::Float32Array>().ElementLength() != size_t(outer * inner))
    throw std::runtime_error("reduce: sizes do not match outer/mid/inner");
  float scale = op == 1 && mid > 0 ? 1.f / float(mid) : 1.f;
  if (inner == 1) {
    for (int64_t o = 0; o < outer; o++) {
      const float *xr = x + o * mid;
      double acc = 0;
      for (int64_t m = 0; m < mid; m++) acc += xr[m];
      y[o] = op == 1 ? float(acc / double(mid)) : float(acc);
    }
    return info.Env().Undefined();
  }
  // Accumulate blocks of 64 rows in float (vectorised), the blocks in double.
  std::vector<double> acc(inner);
  std::vector<float> block(inner);
  for (int64_t o = 0; o < outer; o++) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t m0 = 0; m0 < mid; m0 += 64) {
      std::fill(block.begin(), block.end(), 0.f);
      float *bl = block.data();
      for (int64_t m = m0; m < std::min(mid, m0 + 64); m++) {
        const float *xr = x + (o * mid + m) * inner;
#pragma omp simd
        for (int64_t j = 0; j < inner; j++) bl[j] += xr[j];
      }
      for (int64_t j = 0; j < inner; j++) acc[j] += bl[j];
    }
    float *yo = y + o * inner;
    for (int64_t j = 0; j < inner; j++) yo[j] = float(acc[j] * scale);
  }
  return info.Env().Undefined();
}

// concat(parts[], y, outer, widths): part k is [outer, widths[k]]; y's rows are the parts' rows
// side by side. split(x, parts[], outer, widths) is the reverse.
Napi::Value ConcatSplit(const Napi::CallbackInfo &info, bool isConcat) {
  auto list = info[isConcat ? 0 : 1].As<Napi::Array>();
  float *whole = f32(info[isConcat ? 1 : 0]);
  int64_t outer = info[2].As<Napi::Number>().Int64Value();
  auto widths = ints(info[3]);
  if (widths.size() != list.Length()) throw std::runtime_error("concat/split: one width per part");
  int64_t total = 0;
  for (auto w : widths) total += w;
  std::vector<float *> parts(widths.size());
  for (size_t k = 0; k < widths.size(); k++) {
    auto arr = list.Get(static_cast<uint32_t>(k)).As<Napi::Float32Array>();
    if (arr.ElementLength() != size_t(outer * widths[k])) throw std::runtime_error("concat/split: part size");
    parts[k] = arr.Data();
  }
  for (int64_t o = 0; o < outer; o++) {
    int64_t off = o * total;
    for (size_t k = 0; k < parts.size(); k++) {
      size_t bytes = widths[k] * sizeof(float);
      if (isConcat) std::memcpy(whole + off, parts[k] + o * widths[k], bytes);
      else std::memcpy(parts[k] + o * widths[k], whole + off, bytes);
      off += widths[k];
    }
  }
  return info.Env().Undefined();
}
Napi::Value Concat(const Napi::CallbackInfo &info) { return ConcatSplit(info, true); }
Napi::Value Split(const Napi::CallbackInfo &info) { return ConcatSplit(info, false); }

// step(x, y, alpha): y = x > 0 ? 1 : alpha (NaN stays NaN), the relu gradient's mask.
Napi::Value Step(const Napi::CallbackInfo &info) {
  auto xa = info[0].As<Napi::Float32Array>();
  const float *x = xa.Data();
  float *y = f32(info[1]);
  float alpha = info[2].As<Napi::Number>().FloatValue();
  int64_t n = static_cast<int64_t>(xa.ElementLength());
  int nt = n > kParallelMin ? g_ew.pick('s', n) : 1;
  auto t0 = std::chrono::steady_clock::now();
  ewLoop(n, nt, [=](int64_t lo, int64_t hi) {
    // Selects between values already computed (no branch), so the loop vectorises.
#pragma omp simd
    for (int64_t i = lo; i < hi; i++) {
      float s = x[i] > 0.f ? 1.f : alpha;
      y[i] = x[i] != x[i] ? x[i] : s;
    }
  });
  if (n > kParallelMin) g_ew.record('s', n, nt, n, t0);
  return info.Env().Undefined();
}

// adamSteps(ws[], ms[], vs[], gs[], b1, b2, alpha, eps): Keras' Adam update of every variable of a
// step, in place: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, w -= alpha m / (sqrt(v) + eps), in
// double as the JavaScript loop of lib/train/adam.ts computes it (same results, bit for bit).
//
// Why one call for all variables, split by element: ResNet50 has 212 trainable variables (23.5 M
// parameters); one call each opened 212 OpenMP teams per step, and with another process on a core
// each team's barrier can wait a scheduler slice. Here the step's elements, all variables laid end
// to end, are cut into one even range per thread, so one team does the whole step. No sums, so the
// thread count never changes a result.
//
// Why explicit AVX2: written as a plain loop, std::sqrt keeps its errno check (a call on negative
// input), so GCC compiled it scalar, one sqrtsd and one divsd per element (~13 ns per parameter,
// 6x the step's memory traffic). The AVX2 loop does the same double operations, in the same order,
// four at a time; it is compiled for avx2 alone (no fma), so no multiply-add is ever fused and every
// result is the scalar one (IEEE sqrt and division are exact-rounded either way).
struct AdamCoef {
  double b1, b2, c1, c2, alpha, eps;
};

inline void adamScalar(float *w, float *m, float *v, const float *g, int64_t lo, int64_t hi,
                       const AdamCoef &k) {
  for (int64_t j = lo; j < hi; j++) {
    const double gj = g[j];
    const double mj = k.b1 * double(m[j]) + k.c1 * gj;
    const double vj = k.b2 * double(v[j]) + k.c2 * gj * gj;
    m[j] = float(mj);
    v[j] = float(vj);
    w[j] = float(double(w[j]) - (k.alpha * mj) / (std::sqrt(vj) + k.eps));
  }
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) void adamAvx2(float *w, float *m, float *v, const float *g,
                                              int64_t lo, int64_t hi, const AdamCoef &k) {
  const __m256d b1 = _mm256_set1_pd(k.b1), b2 = _mm256_set1_pd(k.b2), c1 = _mm256_set1_pd(k.c1),
                c2 = _mm256_set1_pd(k.c2), alpha = _mm256_set1_pd(k.alpha), eps = _mm256_set1_pd(k.eps);
  int64_t j = lo;
  for (; j + 4 <= hi; j += 4) {
    const __m256d gj = _mm256_cvtps_pd(_mm_loadu_ps(g + j));
    const __m256d mj = _mm256_add_pd(_mm256_mul_pd(b1, _mm256_cvtps_pd(_mm_loadu_ps(m + j))),
                                     _mm256_mul_pd(c1, gj));
    const __m256d vj = _mm256_add_pd(_mm256_mul_pd(b2, _mm256_cvtps_pd(_mm_loadu_ps(v + j))),
                                     _mm256_mul_pd(_mm256_mul_pd(c2, gj), gj));
    _mm_storeu_ps(m + j, _mm256_cvtpd_ps(mj));
    _mm_storeu_ps(v + j, _mm256_cvtpd_ps(vj));
    const __m256d step = _mm256_div_pd(_mm256_mul_pd(alpha, mj), _mm256_add_pd(_mm256_sqrt_pd(vj), eps));
    _mm_storeu_ps(w + j, _mm256_cvtpd_ps(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(w + j)), step)));
  }
  adamScalar(w, m, v, g, j, hi, k);
}
const bool g_hasAvx2 = __builtin_cpu_supports("avx2");
#else
const bool g_hasAvx2 = false;
void adamAvx2(float *, float *, float *, const float *, int64_t, int64_t, const AdamCoef &) {}
#endif

Napi::Value AdamSteps(const Napi::CallbackInfo &info) {
  Napi::Array lists[4] = {info[0].As<Napi::Array>(), info[1].As<Napi::Array>(), info[2].As<Napi::Array>(),
                          info[3].As<Napi::Array>()};
  const uint32_t count = lists[0].Length();
  for (auto &l : lists)
    if (l.Length() != count) throw std::runtime_error("adamSteps: ws, ms, vs and gs must list as many arrays");
  const double b1 = info[4].As<Napi::Number>().DoubleValue(), b2 = info[5].As<Napi::Number>().DoubleValue();
  const AdamCoef k{b1, b2, 1 - b1, 1 - b2, info[6].As<Napi::Number>().DoubleValue(),
                   info[7].As<Napi::Number>().DoubleValue()};
  struct Var {
    float *p[4];      // w, m, v, g
    int64_t at, n;  // first element in the step's range, length
  };
  std::vector<Var> vars(count);
  int64_t total = 0;
  for (uint32_t i = 0; i < count; i++) {
    int64_t n = -1;
    for (int a = 0; a < 4; a++) {
      auto arr = lists[a].Get(i).As<Napi::Float32Array>();
      if (n >= 0 && int64_t(arr.ElementLength()) != n)
        throw std::runtime_error("adamSteps: variable " + std::to_string(i) +
                                 ": w, m, v and g must have the same length");
      n = int64_t(arr.ElementLength());
      vars[i].p[a] = arr.Data();
    }
    vars[i].at = total;
    vars[i].n = n;
    total += n;
  }
  int nt = total > kParallelMin ? g_ew.pick('a', total) : 1;
  auto t0 = std::chrono::steady_clock::now();
  ewLoop(total, nt, [&](int64_t lo, int64_t hi) {
    // The variables overlapping [lo, hi), each from its first element in the range.
    for (const Var &x : vars) {
      const int64_t a = std::max(lo, x.at), b = std::min(hi, x.at + x.n);
      if (a >= b) continue;
      float *w = x.p[0], *m = x.p[1], *v = x.p[2];
      const float *g = x.p[3];
      if (g_hasAvx2) adamAvx2(w, m, v, g, a - x.at, b - x.at, k);
      else adamScalar(w, m, v, g, a - x.at, b - x.at, k);
    }
  });
  if (total > kParallelMin) g_ew.record('a', total, nt, total, t0);
  return info.Env().Undefined();
}

// biasActGrad(dy, y|null, dx|null, db, channels): the backward of bias + activation over the last
// (channel) axis in one pass. With y (a relu's output): dx = dy * step(y), exactly tfjs' ops (so NaN
// and -0 come out as they give them, and NaN in y gives NaN); db[c] = sum of dx over rows.
// Without y (linear): db alone. Sums run in float blocks of 64 rows, the blocks in double, as Reduce.
Napi::Value BiasActGrad(const Napi::CallbackInfo &info) {
  auto dya = info[0].As<Napi::Float32Array>();
  const float *dy = dya.Data(), *y = f32(info[1]);
  float *dx = f32(info[2]), *db = f32(info[3]);
  int64_t C = info[4].As<Napi::Number>().Int64Value();
  int64_t n = static_cast<int64_t>(dya.ElementLength());
  if (C <= 0 || n % C != 0 || info[3].As<Napi::Float32Array>().ElementLength() != size_t(C) ||
      (y && (!dx || info[1].As<Napi::Float32Array>().ElementLength() != size_t(n) ||
             info[2].As<Napi::Float32Array>().ElementLength() != size_t(n))))
    throw std::runtime_error("biasActGrad: sizes do not match");
  int64_t rows = n / C;
  int nt = n > kParallelMin ? g_ew.pick(y ? 'g' : 'h', n) : 1;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<double> partial(size_t(nt) * C, 0.0);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t T = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t chunk = (rows + T - 1) / T, lo = std::min(rows, t * chunk), hi = std::min(rows, lo + chunk);
    double *acc = partial.data() + t * C;
    std::vector<float> block(C);
    float *bl = block.data();
    for (int64_t r0 = lo; r0 < hi; r0 += 64) {
      std::fill(block.begin(), block.end(), 0.f);
      for (int64_t r = r0; r < std::min(hi, r0 + 64); r++) {
        const float *dyr = dy + r * C;
        if (y) {
          const float *yr = y + r * C;
          float *dxr = dx + r * C;
          // dy * step(y), the mask built by selects between constants and y itself: no branch
          // and no conditional arithmetic, so the loop vectorises (a branch on the sign of y,
          // near-random after a relu, was mispredicted half the time: 40x slower than db alone).
#pragma omp simd
          for (int64_t c = 0; c < C; c++) {
            float s = yr[c] > 0.f ? 1.f : 0.f;
            s = yr[c] != yr[c] ? yr[c] : s;
            float v = dyr[c] * s;
            dxr[c] = v;
            bl[c] += v;
          }
        } else {
#pragma omp simd
          for (int64_t c = 0; c < C; c++) bl[c] += dyr[c];
        }
      }
      for (int64_t c = 0; c < C; c++) acc[c] += bl[c];
    }
  }
  for (int64_t c = 0; c < C; c++) {
    double s = 0;
    for (int t = 0; t < nt; t++) s += partial[size_t(t) * C + c];
    db[c] = float(s);
  }
  if (n > kParallelMin) g_ew.record(y ? 'g' : 'h', n, nt, n, t0);
  return info.Env().Undefined();
}

// pad(x, y, xShape, before, yShape, value): constant padding of any rank <= 8.
Napi::Value Pad(const Napi::CallbackInfo &info) {
  const float *x = f32(info[0]);
  float *y = f32(info[1]);
  auto xs = ints(info[2]), before = ints(info[3]), ys = ints(info[4]);
  float value = info[5].As<Napi::Number>().FloatValue();
  size_t r = xs.size();
  if (r == 0 || r > 8 || before.size() != r || ys.size() != r) throw std::runtime_error("pad: bad rank");
  // Rows = all but the last axis; each input row lands contiguously in one output row.
  int64_t inner = xs[r - 1], outInner = ys[r - 1];
  int64_t xRows = 1, yRows = 1;
  for (size_t d = 0; d + 1 < r; d++) xRows *= xs[d], yRows *= ys[d];
  int64_t yn = yRows * outInner;
  if (yn == 0) return info.Env().Undefined();
  // Fill, then copy rows over it (padding is usually a thin frame, so the double write is cheap).
#pragma omp simd
  for (int64_t i = 0; i < yn; i++) y[i] = value;
  for (int64_t row = 0; row < xRows; row++) {
    int64_t rem = row, yrow = 0, ystride = 1;
    for (int d = static_cast<int>(r) - 2; d >= 0; d--) {
      int64_t idx = rem % xs[d];
      rem /= xs[d];
      yrow += (idx + before[d]) * ystride;
      ystride *= ys[d];
    }
    std::memcpy(y + yrow * outInner + before[r - 1], x + row * inner, inner * sizeof(float));
  }
  return info.Env().Undefined();
}

// slice(x, y, xShape, begin, yShape): y = the box of x starting at `begin`, any rank <= 8 (the
// reverse of pad; tfjs' cpu kernel walks such a box element by element through index maths).
Napi::Value Slice(const Napi::CallbackInfo &info) {
  const float *x = f32(info[0]);
  float *y = f32(info[1]);
  auto xs = ints(info[2]), begin = ints(info[3]), ys = ints(info[4]);
  size_t r = xs.size();
  if (r == 0 || r > 8 || begin.size() != r || ys.size() != r) throw std::runtime_error("slice: bad rank");
  int64_t inner = ys[r - 1], inInner = xs[r - 1];
  int64_t yRows = 1;
  for (size_t d = 0; d + 1 < r; d++) yRows *= ys[d];
  for (int64_t row = 0; row < yRows; row++) {
    int64_t rem = row, xrow = 0, xstride = 1;
    for (int d = static_cast<int>(r) - 2; d >= 0; d--) {
      int64_t idx = rem % ys[d];
      rem /= ys[d];
      xrow += (idx + begin[d]) * xstride;
      xstride *= xs[d];
    }
    std::memcpy(y + row * inner, x + xrow * inInner + begin[r - 1], inner * sizeof(float));
  }
  return info.Env().Undefined();
}

Napi::Value NewWeightCache(const Napi::CallbackInfo &info) {
  return Napi::External<WeightCache>::New(info.Env(), new WeightCache(),
                                          [](Napi::Env env, WeightCache *c) {
                                            Napi::MemoryManagement::AdjustExternalMemory(
                                                env, -static_cast<int64_t>(c->bytes));
                                            delete c;
                                          });
}

// staleWeightCache(cache): the array was written in place; every copy is reordered again on next use.
Napi::Value StaleWeightCache(const Napi::CallbackInfo &info) {
  WeightCache *c = cacheArg(info[0]);
  if (!c) throw std::runtime_error("staleWeightCache: not a weight cache");
  std::fill(c->fresh.begin(), c->fresh.end(), false);
  return info.Env().Undefined();
}

const char *isaName(cpu_isa isa) {
  switch (isa) {
    case cpu_isa::sse41: return "sse41";
    case cpu_isa::avx: return "avx";
    case cpu_isa::avx2: return "avx2";
    case cpu_isa::avx512_core: return "avx512_core";
    case cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case cpu_isa::avx2_vnni: return "avx2_vnni";
    default: return "other";
  }
}

Napi::Value Info(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  const version_t *v = version();
  o.Set("version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                       std::to_string(v->patch));
  o.Set("runtime", "OpenMP");
  o.Set("threads", omp_get_max_threads());
  o.Set("deterministic", g_deterministic);
  o.Set("isa", isaName(get_effective_cpu_isa()));
  auto impls = Napi::Object::New(env);
  for (auto &kv : g_impls) impls.Set(kv.first, kv.second);
  o.Set("impls", impls);
  auto paths = Napi::Object::New(env);
  for (auto &kv : g_paths) paths.Set(kv.first, static_cast<double>(kv.second));
  o.Set("paths", paths);
  size_t n = g_convFwd.size() + g_convBwdData.size() + g_convBwdWeights.size() + g_gemmBwdW.size() + g_matmul.size() +
             g_pool.size();
  o.Set("cachedPrimitives", static_cast<double>(n));
  return o;
}

Napi::Value ClearCaches(const Napi::CallbackInfo &info) {
  g_convFwd.clear();
  g_convBwdData.clear();
  g_convBwdWeights.clear();
  g_gemmBwdW.clear();
  g_matmul.clear();
  g_pool.clear();
  g_picks.clear();
  g_ew.stats.clear();
  return info.Env().Undefined();
}

// setDeterministic(on): see g_deterministic.
Napi::Value SetDeterministic(const Napi::CallbackInfo &info) {
  g_deterministic = info[0].As<Napi::Boolean>().Value();
  return info.Env().Undefined();
}

// Turn oneDNN's errors into JS errors that name the addon.
template <Napi::Value (*F)(const Napi::CallbackInfo &)>
Napi::Value guarded(const Napi::CallbackInfo &info) {
  try {
    return F(info);
  } catch (const dnnl::error &e) {
    throw Napi::Error::New(info.Env(), std::string("onednn addon: ") + e.what() +
                                           " (status " + std::to_string(int(e.status)) + ")");
  } catch (const std::exception &e) {
    throw Napi::Error::New(info.Env(), std::string("onednn addon: ") + e.what());
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dForward", Napi::Function::New(env, guarded<Conv2dForward>));
  exports.Set("conv2dBackwardData", Napi::Function::New(env, guarded<Conv2dBackwardData>));
  exports.Set("conv2dBackwardWeights", Napi::Function::New(env, guarded<Conv2dBackwardWeights>));
  exports.Set("matmul", Napi::Function::New(env, guarded<MatMulF>));
  exports.Set("pool", Napi::Function::New(env, guarded<PoolF>));
  exports.Set("poolBackward", Napi::Function::New(env, guarded<PoolBackward>));
  exports.Set("batchNorm", Napi::Function::New(env, guarded<BatchNorm>));
  exports.Set("relu", Napi::Function::New(env, guarded<Relu>));
  exports.Set("binary", Napi::Function::New(env, guarded<Binary>));
  exports.Set("unary", Napi::Function::New(env, guarded<Unary>));
  exports.Set("pad", Napi::Function::New(env, guarded<Pad>));
  exports.Set("slice", Napi::Function::New(env, guarded<Slice>));
  exports.Set("reduce", Napi::Function::New(env, guarded<Reduce>));
  exports.Set("concat", Napi::Function::New(env, guarded<Concat>));
  exports.Set("split", Napi::Function::New(env, guarded<Split>));
  exports.Set("step", Napi::Function::New(env, guarded<Step>));
  exports.Set("bnormTrain", Napi::Function::New(env, guarded<BnormTrain>));
  exports.Set("bnormTrainBackward", Napi::Function::New(env, guarded<BnormTrainBackward>));
  exports.Set("biasActGrad", Napi::Function::New(env, guarded<BiasActGrad>));
  exports.Set("adamSteps", Napi::Function::New(env, guarded<AdamSteps>));
  exports.Set("newWeightCache", Napi::Function::New(env, NewWeightCache));
  exports.Set("staleWeightCache", Napi::Function::New(env, guarded<StaleWeightCache>));
  exports.Set("info", Napi::Function::New(env, guarded<Info>));
  exports.Set("clearCaches", Napi::Function::New(env, ClearCaches));
  exports.Set("setDeterministic", Napi::Function::New(env, SetDeterministic));
  return exports;
}

}  // namespace

NODE_API_MODULE(onednn, Init)
