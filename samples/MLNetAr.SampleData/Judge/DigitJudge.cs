using System.Numerics.Tensors;
using System.Security.Cryptography;

namespace MLNetAr.Data.Judge;

/// <summary>
/// The judge of generated digits: a small LeNet-style convolutional classifier of 28×28 binary digits, trained on real
/// labelled MNIST digits, whose class probabilities and penultimate features give <see cref="SampleQuality"/>'s
/// metrics (confident share, Inception-style score, class coverage, Fréchet distance).
/// </summary>
/// <remarks>
/// Layers: conv 5×5 (1 → 16) → ReLU → 2×2 max-pool → conv 5×5 (16 → 32) → ReLU → 2×2 max-pool → dense 512 → 128 (ReLU;
/// the <see cref="FeatureCount"/> features) → dense 128 → 10 (softmax). About 80,000 parameters.
/// <para>
/// Why a CNN and not one of ML.NET's trainers on the pixels: the Fréchet distance needs a feature layer learnt for
/// digits (a tree ensemble has none), and a convolution's tolerance of small shifts is what lets 8,000 training digits
/// reach ≥ 97 % on held-out ones. It is trained on both binarisations the models see: threshold (x > ½) and Bernoulli
/// (each pixel 1 with probability x, drawn anew every epoch), each shifted by up to 2 pixels.
/// </para>
/// <para>
/// A classifier trained on digits alone calls dense noise an 8 with p ≈ 1 (measured: 99.6 % of coin-flip images were
/// "confident"), which would let noise pass for digits. So it also sees noise images (each pixel 1 with a random ink
/// density) with the uniform distribution over the ten classes as their target ("outlier exposure", Hendrycks et al.
/// 2019): it learns to be unsure of what is not a digit.
/// </para>
/// Training is deterministic: each minibatch is split into fixed chunks whose gradients are summed in order, so the
/// same data and seed give the same weights on any number of cores.
/// </remarks>
public sealed class DigitJudge
{
    /// <summary>Image side: the judge reads 28×28 images.</summary>
    public const int Side = 28;
    /// <summary>Pixels per image.</summary>
    public const int Dimension = Side * Side;
    /// <summary>Digit classes.</summary>
    public const int Classes = 10;
    /// <summary>Length of the penultimate feature vector (the Fréchet distance's space).</summary>
    public const int FeatureCount = 128;

    private const int Kernel = 5, C1 = 16, Side1 = Side - Kernel + 1, Pooled1 = Side1 / 2; // 24×24 → 12×12
    private const int C2 = 32, Side2 = Pooled1 - Kernel + 1, Pooled2 = Side2 / 2;          // 8×8 → 4×4
    private const int K1 = Kernel * Kernel, P1 = Side1 * Side1, Q1 = Pooled1 * Pooled1;
    private const int K2 = C1 * Kernel * Kernel, P2 = Side2 * Side2, Q2 = Pooled2 * Pooled2;
    private const int Flat = C2 * Q2;
    private const uint FileMagic = 0x4A474944; // "DIGJ"
    private const int FileVersion = 1;

    // Parameters, in one array so that the optimiser and the file treat them alike.
    private static readonly (string Name, int Length)[] Layout =
    [
        ("conv1.w", C1 * K1), ("conv1.b", C1), ("conv2.w", C2 * K2), ("conv2.b", C2),
        ("dense1.w", FeatureCount * Flat), ("dense1.b", FeatureCount), ("dense2.w", Classes * FeatureCount),
        ("dense2.b", Classes),
    ];
    private static readonly int[] Offsets = Layout.Select((_, i) => Layout.Take(i).Sum(l => l.Length)).ToArray();
    private static readonly int ParameterLength = Layout.Sum(l => l.Length);

    private readonly float[] _parameters;

    private DigitJudge(float[] parameters) => _parameters = parameters;

    /// <summary>Number of trainable parameters.</summary>
    public static int ParameterCount => ParameterLength;

    private static Span<float> Slice(float[] all, int layer) => all.AsSpan(Offsets[layer], Layout[layer].Length);

    /// <summary>
    /// Class probabilities <c>(N, 10)</c> and penultimate features <c>(N, 128)</c> of <paramref name="images"/>
    /// <c>(N, 784)</c>, values in [0, 1] (binary digits, or grey ones as they are).
    /// </summary>
    /// <exception cref="ArgumentException">The images are not whole 28×28 images.</exception>
    public (float[] Probabilities, float[] Features) Predict(ReadOnlySpan<float> images)
    {
        if (images.Length % Dimension != 0)
            throw new ArgumentException($"The judge reads 28×28 images ({Dimension} values each); got " +
                $"{images.Length} values.", nameof(images));
        int n = images.Length / Dimension;
        var probabilities = new float[n * Classes];
        var features = new float[n * FeatureCount];
        float[] input = images.ToArray();
        Parallel.For(0, n, () => new Activations(), (i, _, a) =>
        {
            Forward(input.AsSpan(i * Dimension, Dimension), a);
            a.Probabilities.CopyTo(probabilities.AsSpan(i * Classes, Classes));
            a.Features.CopyTo(features.AsSpan(i * FeatureCount, FeatureCount));
            return a;
        }, _ => { });
        return (probabilities, features);
    }

    /// <summary>Share of <paramref name="images"/> whose most probable class is their label.</summary>
    public double Accuracy(ReadOnlySpan<float> images, ReadOnlySpan<float> labels)
    {
        float[] p = Predict(images).Probabilities;
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
            correct += ArgMax(p.AsSpan(i * Classes, Classes)) == (int)labels[i] ? 1 : 0;
        return correct / (double)labels.Length;
    }

    /// <summary>The index of the largest value.</summary>
    public static int ArgMax(ReadOnlySpan<float> values) => TensorPrimitives.IndexOfMax(values);

    // ---- Training ---------------------------------------------------------------------------------------------------

    /// <summary>How the judge is trained.</summary>
    /// <param name="Epochs">Passes over the training digits (each seen once thresholded, once
    /// Bernoulli-binarised).</param>
    /// <param name="BatchSize">Images per Adam step.</param>
    /// <param name="LearningRate">Adam's step size (halved for the last third of the epochs).</param>
    /// <param name="MaxShift">Largest random translation in pixels, in x and y.</param>
    /// <param name="NoiseShare">Noise images per training digit and epoch, taught to get the uniform
    /// distribution.</param>
    /// <param name="Seed">Seed of the initialisation, shuffles, binarisations and shifts.</param>
    public sealed record TrainingOptions(int Epochs = 24, int BatchSize = 64, float LearningRate = 1e-3f,
        int MaxShift = 2, double NoiseShare = 0.25, int Seed = 1);

    /// <summary>
    /// Trains a judge on grey-level digits <paramref name="train"/> (values in [0, 1]) with integer labels 0–9.
    /// </summary>
    /// <param name="progress">Called after each epoch with (epoch, mean training loss).</param>
    /// <exception cref="ArgumentException">The images are not 28×28 or have no labels 0–9.</exception>
    public static DigitJudge Train(ImageSet train, TrainingOptions options, Action<int, double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        if (train.Height != Side || train.Width != Side || train.Labels == null)
            throw new ArgumentException("The judge trains on labelled 28×28 digits.", nameof(train));
        if (train.Labels.Any(l => l is < 0 or > 9 || l != MathF.Round(l)))
            throw new ArgumentException("The judge's labels must be the digits 0–9.", nameof(train));

        var random = new Random(options.Seed);
        var judge = new DigitJudge(Initialise(random));
        var adam = new Adam(ParameterLength);
        const int chunks = 4; // fixed gradient chunks per minibatch: the sum's order never depends on the core count
        var gradients = Enumerable.Range(0, chunks).Select(_ => new float[ParameterLength]).ToArray();
        var scratch = Enumerable.Range(0, chunks).Select(_ => new Activations()).ToArray();
        var total = new float[ParameterLength];
        // View v < n: thresholded image v; n ≤ v < 2n: a Bernoulli draw of image v - n; v ≥ 2n: a noise image.
        int n = train.Count, views = 2 * n + (int)(options.NoiseShare * n);
        var batchImages = new float[options.BatchSize * Dimension];
        var batchLabels = new int[options.BatchSize];
        var losses = new double[chunks];
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            int[] order = Enumerable.Range(0, views).ToArray();
            random.Shuffle(order);
            float learningRate = epoch > options.Epochs * 2 / 3 ? options.LearningRate / 2 : options.LearningRate;
            double epochLoss = 0;
            for (int start = 0; start < views; start += options.BatchSize)
            {
                int batch = Math.Min(options.BatchSize, views - start);
                for (int b = 0; b < batch; b++)
                {
                    int view = order[start + b], image = view % n;
                    Span<float> target = batchImages.AsSpan(b * Dimension, Dimension);
                    if (view >= 2 * n)
                    {
                        Noise(random, target);
                        batchLabels[b] = NotADigit;
                        continue;
                    }
                    Augment(train.Pixels.AsSpan(image * Dimension, Dimension), bernoulli: view >= n,
                        options.MaxShift, random, target);
                    batchLabels[b] = (int)train.Labels[image];
                }
                Parallel.For(0, chunks, c =>
                {
                    Array.Clear(gradients[c]);
                    losses[c] = 0;
                    for (int b = c; b < batch; b += chunks)
                        losses[c] += judge.Backward(batchImages.AsSpan(b * Dimension, Dimension), batchLabels[b],
                            scratch[c], gradients[c]);
                });
                gradients[0].CopyTo(total, 0);
                for (int c = 1; c < chunks; c++) TensorPrimitives.Add(total, gradients[c], total);
                TensorPrimitives.Multiply(total, 1f / batch, total);
                adam.Step(judge._parameters, total, learningRate);
                epochLoss += losses.Sum();
            }
            progress?.Invoke(epoch, epochLoss / views);
        }
        return judge;
    }

    /// <summary>
    /// One training view of a digit: thresholded at ½ or Bernoulli-binarised, then shifted by up to
    /// <paramref name="maxShift"/> pixels in x and y (zeros come in at the edges).
    /// </summary>
    private static void Augment(ReadOnlySpan<float> digit, bool bernoulli, int maxShift, Random random,
        Span<float> view)
    {
        int dx = random.Next(-maxShift, maxShift + 1), dy = random.Next(-maxShift, maxShift + 1);
        view.Clear();
        for (int y = 0; y < Side; y++)
            for (int x = 0; x < Side; x++)
            {
                float v = digit[y * Side + x];
                float binary = bernoulli ? (random.NextSingle() < v ? 1f : 0f) : (v > 0.5f ? 1f : 0f);
                int ty = y + dy, tx = x + dx;
                if (ty is >= 0 and < Side && tx is >= 0 and < Side) view[ty * Side + tx] = binary;
            }
    }

    /// <summary>The label of a noise image: its target is the uniform distribution over the classes.</summary>
    private const int NotADigit = -1;

    /// <summary>A binary noise image: each pixel 1 with one ink density drawn uniformly from [0.02, 0.7].</summary>
    private static void Noise(Random random, Span<float> image)
    {
        float ink = 0.02f + 0.68f * random.NextSingle();
        for (int i = 0; i < image.Length; i++) image[i] = random.NextSingle() < ink ? 1f : 0f;
    }

    /// <summary>He-normal weights (fan-in), zero biases.</summary>
    private static float[] Initialise(Random random)
    {
        var parameters = new float[ParameterLength];
        int[] fanIn = [K1, 0, K2, 0, Flat, 0, FeatureCount, 0];
        for (int layer = 0; layer < Layout.Length; layer++)
        {
            if (fanIn[layer] == 0) continue;
            float scale = MathF.Sqrt(2f / fanIn[layer]);
            Span<float> w = Slice(parameters, layer);
            for (int i = 0; i < w.Length; i++)
            {
                double u1 = 1 - random.NextDouble(), u2 = random.NextDouble(); // Box–Muller
                w[i] = scale * (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
        }
        return parameters;
    }

    /// <summary>Adam with the usual β₁ = 0.9, β₂ = 0.999, ε = 1e-8.</summary>
    private sealed class Adam(int length)
    {
        private readonly float[] _m = new float[length], _v = new float[length];
        private int _t;

        public void Step(float[] parameters, float[] gradient, float learningRate)
        {
            _t++;
            float c1 = 1 - MathF.Pow(0.9f, _t), c2 = 1 - MathF.Pow(0.999f, _t);
            for (int i = 0; i < parameters.Length; i++)
            {
                float g = gradient[i];
                _m[i] = 0.9f * _m[i] + 0.1f * g;
                _v[i] = 0.999f * _v[i] + 0.001f * g * g;
                parameters[i] -= learningRate * (_m[i] / c1) / (MathF.Sqrt(_v[i] / c2) + 1e-8f);
            }
        }
    }

    // ---- Forward and backward ---------------------------------------------------------------------------------------

    /// <summary>One image's activations, kept for the backward pass (one per thread).</summary>
    private sealed class Activations
    {
        public readonly float[] Columns1 = new float[K1 * P1];           // (K1, P1): im2col of the input
        public readonly float[] Conv1 = new float[C1 * P1];              // (C1, P1) after ReLU
        public readonly float[] Pool1 = new float[C1 * Q1];              // (C1, Q1)
        public readonly int[] Pool1Argmax = new int[C1 * Q1];
        public readonly float[] Columns2 = new float[P2 * K2];           // (P2, K2): im2col of Pool1, row per position
        public readonly float[] Conv2 = new float[C2 * P2];              // (C2, P2) after ReLU
        public readonly float[] Pool2 = new float[Flat];                 // (C2·Q2)
        public readonly int[] Pool2Argmax = new int[Flat];
        public readonly float[] Features = new float[FeatureCount];      // (128) after ReLU
        public readonly float[] Probabilities = new float[Classes];      // (10)
        // Backward scratch.
        public readonly float[] DFeatures = new float[FeatureCount];
        public readonly float[] DPool2 = new float[Flat];
        public readonly float[] DConv2 = new float[C2 * P2];
        public readonly float[] DColumns2 = new float[P2 * K2];
        public readonly float[] DPool1 = new float[C1 * Q1];
        public readonly float[] DConv1 = new float[C1 * P1];
    }

    private void Forward(ReadOnlySpan<float> image, Activations a)
    {
        float[] p = _parameters;
        // conv1 as (C1, K1)·(K1, P1): each weight scales a whole 576-long row of input columns.
        for (int ky = 0; ky < Kernel; ky++)
            for (int kx = 0; kx < Kernel; kx++)
            {
                Span<float> row = a.Columns1.AsSpan((ky * Kernel + kx) * P1, P1);
                for (int oy = 0; oy < Side1; oy++)
                    image.Slice((oy + ky) * Side + kx, Side1).CopyTo(row.Slice(oy * Side1, Side1));
            }
        Span<float> w1 = Slice(p, 0), b1 = Slice(p, 1);
        for (int c = 0; c < C1; c++)
        {
            Span<float> output = a.Conv1.AsSpan(c * P1, P1);
            output.Fill(b1[c]);
            for (int k = 0; k < K1; k++)
                TensorPrimitives.MultiplyAdd(a.Columns1.AsSpan(k * P1, P1), w1[c * K1 + k], output, output);
            TensorPrimitives.Max(output, 0f, output);
        }
        MaxPool(a.Conv1, C1, Side1, a.Pool1, a.Pool1Argmax);

        // conv2 as dots of each weight row with each position's 400-long column.
        for (int oy = 0; oy < Side2; oy++)
            for (int ox = 0; ox < Side2; ox++)
            {
                Span<float> column = a.Columns2.AsSpan((oy * Side2 + ox) * K2, K2);
                for (int ci = 0; ci < C1; ci++)
                    for (int ky = 0; ky < Kernel; ky++)
                        a.Pool1.AsSpan(ci * Q1 + (oy + ky) * Pooled1 + ox, Kernel)
                            .CopyTo(column.Slice((ci * Kernel + ky) * Kernel, Kernel));
            }
        Span<float> w2 = Slice(p, 2), b2 = Slice(p, 3);
        for (int c = 0; c < C2; c++)
            for (int q = 0; q < P2; q++)
                a.Conv2[c * P2 + q] = MathF.Max(0f,
                    b2[c] + TensorPrimitives.Dot(w2.Slice(c * K2, K2), a.Columns2.AsSpan(q * K2, K2)));
        MaxPool(a.Conv2, C2, Side2, a.Pool2, a.Pool2Argmax);

        Span<float> w3 = Slice(p, 4), b3 = Slice(p, 5), w4 = Slice(p, 6), b4 = Slice(p, 7);
        for (int j = 0; j < FeatureCount; j++) // (512) -> (128)
            a.Features[j] = MathF.Max(0f, b3[j] + TensorPrimitives.Dot(w3.Slice(j * Flat, Flat), a.Pool2));
        for (int k = 0; k < Classes; k++) // (128) -> (10)
            a.Probabilities[k] = b4[k] + TensorPrimitives.Dot(w4.Slice(k * FeatureCount, FeatureCount), a.Features);
        TensorPrimitives.SoftMax(a.Probabilities, a.Probabilities);
    }

    /// <summary>
    /// Forward and backward of one image with its label: adds the gradient of the cross-entropy to the target (one-hot,
    /// or uniform for <see cref="NotADigit"/>) to <paramref name="gradient"/> and returns the loss.
    /// </summary>
    private double Backward(ReadOnlySpan<float> image, int label, Activations a, float[] gradient)
    {
        Forward(image, a);
        float[] p = _parameters;
        double loss = 0;
        for (int k = 0; k < Classes; k++)
        {
            float targetK = Target(label, k);
            if (targetK > 0) loss -= targetK * Math.Log(Math.Max(a.Probabilities[k], 1e-30f));
        }

        // dense2: dz = p - onehot; dW4 += dz ⊗ f; df = W4ᵀ dz, through the ReLU.
        Span<float> w3 = Slice(p, 4), w4 = Slice(p, 6), gw3 = Slice(gradient, 4), gb3 = Slice(gradient, 5);
        Span<float> gw4 = Slice(gradient, 6), gb4 = Slice(gradient, 7);
        a.DFeatures.AsSpan().Clear();
        for (int k = 0; k < Classes; k++)
        {
            float dz = a.Probabilities[k] - Target(label, k);
            gb4[k] += dz;
            Span<float> gRow = gw4.Slice(k * FeatureCount, FeatureCount);
            TensorPrimitives.MultiplyAdd(a.Features, dz, gRow, gRow);
            TensorPrimitives.MultiplyAdd(w4.Slice(k * FeatureCount, FeatureCount), dz, a.DFeatures, a.DFeatures);
        }
        // dense1: (128) <- (512)
        a.DPool2.AsSpan().Clear();
        for (int j = 0; j < FeatureCount; j++)
        {
            float df = a.Features[j] > 0f ? a.DFeatures[j] : 0f;
            if (df == 0f) continue;
            gb3[j] += df;
            Span<float> gRow = gw3.Slice(j * Flat, Flat);
            TensorPrimitives.MultiplyAdd(a.Pool2, df, gRow, gRow);
            TensorPrimitives.MultiplyAdd(w3.Slice(j * Flat, Flat), df, a.DPool2, a.DPool2);
        }
        // pool2 and conv2's ReLU: the gradient goes to each window's maximum, if it was positive.
        Unpool(a.DPool2, a.Pool2Argmax, a.Conv2, a.DConv2);
        Span<float> w2 = Slice(p, 2), gw2 = Slice(gradient, 2), gb2 = Slice(gradient, 3);
        a.DColumns2.AsSpan().Clear();
        for (int c = 0; c < C2; c++)
            for (int q = 0; q < P2; q++)
            {
                float d = a.DConv2[c * P2 + q];
                if (d == 0f) continue;
                gb2[c] += d;
                Span<float> gRow = gw2.Slice(c * K2, K2), dColumn = a.DColumns2.AsSpan(q * K2, K2);
                TensorPrimitives.MultiplyAdd(a.Columns2.AsSpan(q * K2, K2), d, gRow, gRow);
                TensorPrimitives.MultiplyAdd(w2.Slice(c * K2, K2), d, dColumn, dColumn);
            }
        // col2im of conv2's input gradient.
        a.DPool1.AsSpan().Clear();
        for (int oy = 0; oy < Side2; oy++)
            for (int ox = 0; ox < Side2; ox++)
            {
                ReadOnlySpan<float> column = a.DColumns2.AsSpan((oy * Side2 + ox) * K2, K2);
                for (int ci = 0; ci < C1; ci++)
                    for (int ky = 0; ky < Kernel; ky++)
                    {
                        Span<float> target = a.DPool1.AsSpan(ci * Q1 + (oy + ky) * Pooled1 + ox, Kernel);
                        TensorPrimitives.Add(target, column.Slice((ci * Kernel + ky) * Kernel, Kernel), target);
                    }
            }
        Unpool(a.DPool1, a.Pool1Argmax, a.Conv1, a.DConv1);
        Span<float> gw1 = Slice(gradient, 0), gb1 = Slice(gradient, 1);
        for (int c = 0; c < C1; c++)
        {
            ReadOnlySpan<float> d = a.DConv1.AsSpan(c * P1, P1);
            gb1[c] += TensorPrimitives.Sum(d);
            for (int k = 0; k < K1; k++) gw1[c * K1 + k] += TensorPrimitives.Dot(d, a.Columns1.AsSpan(k * P1, P1));
        }
        return loss;
    }

    private static float Target(int label, int k) => label == NotADigit ? 1f / Classes : k == label ? 1f : 0f;

    /// <summary>
    /// 2×2 max-pooling of <c>(C, side, side)</c> to <c>(C, side/2, side/2)</c>, remembering each winner.
    /// </summary>
    private static void MaxPool(float[] x, int channels, int side, float[] pooled, int[] argmax)
    {
        int half = side / 2;
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < half; y++)
                for (int xx = 0; xx < half; xx++)
                {
                    int best = c * side * side + 2 * y * side + 2 * xx;
                    foreach (int candidate in (ReadOnlySpan<int>)[best + 1, best + side, best + side + 1])
                        if (x[candidate] > x[best]) best = candidate;
                    int o = (c * half + y) * half + xx;
                    pooled[o] = x[best];
                    argmax[o] = best;
                }
    }

    /// <summary>
    /// The pooled gradient routed back to each window's winner, zero where the ReLU before the pool was inactive.
    /// </summary>
    private static void Unpool(float[] dPooled, int[] argmax, float[] activated, float[] dActivated)
    {
        Array.Clear(dActivated);
        for (int o = 0; o < dPooled.Length; o++)
            if (activated[argmax[o]] > 0f) dActivated[argmax[o]] += dPooled[o];
    }

    // ---- Files ------------------------------------------------------------------------------------------------------

    /// <summary>Writes the weights (little-endian floats after a small header).</summary>
    public void Save(string path)
    {
        string temporary = path + ".partial";
        using (var writer = new BinaryWriter(File.Create(temporary)))
        {
            writer.Write(FileMagic);
            writer.Write(FileVersion);
            writer.Write(ParameterLength);
            foreach (float v in _parameters) writer.Write(v);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// Reads a judge written by <see cref="Save"/>; with <paramref name="expectedSha256"/>, only a file of that hash.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">It is not a judge file of this layout, or its hash differs.</exception>
    public static DigitJudge Load(string path, string? expectedSha256 = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No digit judge at '{path}'.", path);
        byte[] bytes = File.ReadAllBytes(path);
        if (expectedSha256 != null && Convert.ToHexStringLower(SHA256.HashData(bytes)) != expectedSha256)
            throw new InvalidDataException($"The digit judge '{path}' differs from its recorded SHA-256 " +
                $"{expectedSha256}: it was altered or truncated.");
        using var reader = new BinaryReader(new MemoryStream(bytes));
        if (bytes.Length < 12 || reader.ReadUInt32() != FileMagic || reader.ReadInt32() != FileVersion
            || reader.ReadInt32() != ParameterLength || bytes.Length != 12 + 4L * ParameterLength)
            throw new InvalidDataException($"'{path}' is not a digit judge of this version " +
                $"({ParameterLength} parameters).");
        var parameters = new float[ParameterLength];
        for (int i = 0; i < parameters.Length; i++) parameters[i] = reader.ReadSingle();
        if (!parameters.All(float.IsFinite)) throw new InvalidDataException($"'{path}' holds non-finite weights.");
        return new DigitJudge(parameters);
    }
}
