using System.Diagnostics;
using System.Globalization;
using MLNetAr.Data;
using MLNetAr.Kernels;
using MLNetAr.Models;
using MLNetAr.Nn.Layers;
using MLNetAr.Nn.Masks;

namespace MLNetAr.Benchmarks;

/// <summary>
/// The convolutional training step against the GEMM peak, without data loading, validation or the optimiser: one
/// gated PixelCNN (the 28×28 default unless <c>--set</c> says otherwise) runs its training step on minibatches of
/// embedded digits, interleaved with the GEMM peak (step, peak, step, peak …) because this machine's speed drifts
/// within minutes. Reports the ratio of each pair, with their median and best, and a breakdown of one step by layer
/// kind (each layer's Forward and Backward timed alone with the step's shapes).
/// </summary>
/// <remarks>
/// Usage: <c>conv [--batch B] [--rounds R] [--steps S] [--layers L] [--channels C] [--kernel K]</c>. A step costs
/// <c>6·Σ|W|·D</c> flops an image: every weight is used at each of the D positions forward, for the weight gradient
/// and for the input gradient.
/// </remarks>
internal static class ConvolutionBenchmark
{
    public static Dictionary<string, object> Run(IReadOnlyList<string> args)
    {
        int batch = 32, rounds = 5, steps = 10, channels = PixelCnnDensityEstimator.Defaults.Channels;
        int kernel = PixelCnnDensityEstimator.Defaults.KernelSize, layers = 0;
        for (int i = 0; i < args.Count; i++)
        {
            int Value() => i + 1 < args.Count && int.TryParse(args[++i], CultureInfo.InvariantCulture, out int v) &&
                v > 0 ? v : throw new ArgumentException($"{args[i]} needs a positive integer.");
            switch (args[i])
            {
                case "--batch": batch = Value(); break;
                case "--rounds": rounds = Value(); break;
                case "--steps": steps = Value(); break;
                case "--layers": layers = Value(); break;
                case "--channels": channels = Value(); break;
                case "--kernel": kernel = Value(); break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }

        ImageSet digits = BenchmarkData.Split(BenchmarkData.Digits()).Train;
        int height = digits.Height, width = digits.Width, d = height * width;
        if (layers == 0) layers = PixelCnnDensityEstimator.Defaults.LayersCovering(height, width, kernel);
        var model = new PixelCnn(height, width, 2, layers, channels, kernel,
            PixelCnnDensityEstimator.Defaults.HeadChannels);
        // Binarised at 0.5, as the train benchmark reads the digits.
        float[] rows = digits.Slice(0, batch).Pixels.Select(v => v >= 0.5f ? 1f : 0f).ToArray();
        model.Initialize(new Random(1), rows);
        var workspace = model.CreateWorkspace(batch);
        long weights = model.Parameters.Where(p => p.Shape.Length >= 2).Sum(p => (long)p.Length);
        double stepFlop = 6.0 * weights * d * batch;

        double StepSeconds()
        {
            for (int w = 0; w < 2; w++) model.TrainingStep(rows, batch, workspace);
            var times = new double[steps];
            for (int s = 0; s < steps; s++)
            {
                var clock = Stopwatch.StartNew();
                model.TrainingStep(rows, batch, workspace);
                times[s] = clock.Elapsed.TotalSeconds;
            }
            return Median(times);
        }

        var stepGflops = new List<double>();
        var peakGflops = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            stepGflops.Add(stepFlop / StepSeconds() / 1e9);
            peakGflops.Add(GemmBenchmark.Peak().Median);
            Console.Error.WriteLine($"round {r + 1}: step {stepGflops[^1]:F1} GFLOP/s, GEMM peak {peakGflops[^1]:F1} " +
                $"GFLOP/s, ratio {stepGflops[^1] / peakGflops[^1]:P1}");
        }
        double[] ratios = stepGflops.Zip(peakGflops, (s, p) => s / p).ToArray();
        Console.WriteLine($"PixelCNN {layers}×{channels}, {kernel}×{kernel}, batch {batch}: " +
            $"{stepFlop / batch / 1e9:F2} GFLOP an image; step/peak median {Median(ratios):P1}, " +
            $"best {ratios.Max():P1} ({rounds} interleaved rounds)");

        var breakdown = Breakdown(model, batch, steps);
        double stepMs = stepFlop / Median(stepGflops.ToArray()) / 1e6;
        foreach (var (name, ms) in breakdown)
            Console.WriteLine($"  {name,-34} {ms,8:F2} ms  {ms / stepMs,6:P1} of the step");
        return new Dictionary<string, object>
        {
            ["model"] = $"PixelCNN {layers} layers × {channels} channels, {kernel}×{kernel}",
            ["batch"] = batch,
            ["gflop_per_image"] = Math.Round(stepFlop / batch / 1e9, 3),
            ["step_gflops"] = stepGflops.Select(g => Math.Round(g, 1)).ToArray(),
            ["gemm_peak_median_gflops"] = peakGflops.Select(g => Math.Round(g, 1)).ToArray(),
            ["fraction_of_gemm_peak_median"] = Math.Round(Median(ratios), 3),
            ["fraction_of_gemm_peak_best"] = Math.Round(ratios.Max(), 3),
            ["step_ms_median"] = Math.Round(stepMs, 2),
            ["breakdown_ms"] = breakdown.ToDictionary(b => b.Name, b => Math.Round(b.Milliseconds, 2)),
        };
    }

    /// <summary>
    /// Forward and Backward of one layer of each kind (the second layer's, as every layer but the first has its
    /// shapes), timed alone and multiplied by the number of such layers.
    /// </summary>
    private static List<(string Name, double Milliseconds)> Breakdown(PixelCnn model, int batch, int steps)
    {
        var result = new List<(string, double)>();
        int n = batch * model.Dimension;
        var random = new Random(2);
        foreach (var (kind, count) in new[] { ("Vertical", model.Layers - 1), ("Horizontal", model.Layers - 1),
            ("Link", model.Layers), ("Out", model.Layers) })
        {
            var layer = new CausalConv2d(kind, model.Channels * (kind == "Link" ? 2 : 1),
                model.Channels * (kind == "Out" ? 1 : 2), kind switch
                {
                    "Vertical" => ConvTaps.Vertical(model.KernelSize, first: false),
                    "Horizontal" => ConvTaps.Horizontal(model.KernelSize, first: false),
                    _ => ConvTaps.Pointwise,
                }, model.Height, model.Width);
            float[] x = Enumerable.Range(0, layer.InputChannels * n).Select(_ => random.NextSingle() - 0.5f).ToArray();
            float[] dy = Enumerable.Range(0, layer.OutputChannels * n).Select(_ => random.NextSingle() - 0.5f)
                .ToArray();
            float[] y = new float[dy.Length], dx = new float[x.Length];
            float[] scratch = new float[layer.ColumnsLength(batch)];
            double forward = Median(Time(steps, () => layer.Forward(x, batch, y)));
            double backward = Median(Time(steps, () => layer.Backward(x, batch, dy, dx, scratch)));
            string shape = $"({layer.OutputChannels}×{layer.PatchSize})";
            result.Add(($"{kind} {shape} ×{count} forward", forward * count * 1e3));
            result.Add(($"{kind} {shape} ×{count} backward", backward * count * 1e3));
        }
        return result;
    }

    private static double[] Time(int repeats, Action action)
    {
        action();
        var times = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times[r] = clock.Elapsed.TotalSeconds;
        }
        return times;
    }

    private static double Median(double[] values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
