using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNetAr.Data;

namespace MLNetAr.Benchmarks;

/// <summary>
/// Scoring throughput (images/s) of one fitted model along every path a user has: <c>Transform</c> with read-ahead
/// batches, <c>Transform</c>'s row-by-row mapper (what <c>PredictionEngine</c> and shuffled cursors use), a
/// <c>PredictionEngine</c>, and ONNX Runtime on the <c>ConvertToOnnx</c> export at batch 1 and 256. Also the largest
/// |ONNX − MLNetAr| log-likelihood on the scored images.
/// </summary>
/// <remarks>
/// Models: the presets below (each trained for one epoch on 1000 digits: scoring speed does not depend on the weights),
/// or one <c>--model</c> with <c>--set</c> options as in <c>train</c>. <c>--images N</c> scored per run (default 1000;
/// the row-by-row paths score a fifth of them), <c>--repeats R</c> timed runs per path (median and best reported).
/// </remarks>
internal static class ScoreBenchmark
{
    private static readonly (string Name, string Model, string[] Settings)[] Presets =
    [
        ("FVSBN", "fvsbn", []),
        ("NADE H=500", "nade", []),
        ("MADE 1x500", "made", []),
        ("MADE 2x500, 32-mask ensemble", "made",
            ["HiddenSizes=500,500", "InputOrder=Random", "NumberOfMasks=32", "EnsembleSize=32"]),
        ("PixelCNN 5x32", "pixelcnn", ["Layers=5", "KernelSize=3"]),
        ("WaveNet 12 blocks x32", "wavenet", ["Dilations=1,2,4,8,16,32,1,2,4,8,16,32"]),
        ("pixel LSTM H=64", "pixelrnn", []),
    ];

    public static Dictionary<string, object> Run(IReadOnlyList<string> args)
    {
        int images = 1000, repeats = 3;
        string? model = null;
        var settings = new List<string>(); // Name=Value, as the presets' settings
        var only = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--images": images = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--repeats": repeats = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--model": model = args[++i].ToLowerInvariant(); break;
                case "--only": only.AddRange(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries)); break;
                case "--set": settings.Add(args[++i]); break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'. Known: --images N, --repeats R, " +
                    $"--model M, --set Name=Value, --only name,name.");
            }
        }
        var runs = model != null
            ? [(model, model, settings.ToArray())]
            : Presets.Where(p =>
                only.Count == 0 || only.Any(o => p.Name.Contains(o, StringComparison.OrdinalIgnoreCase))).ToArray();
        var digits = BenchmarkData.Digits();
        var results = runs.Select(r => Measure(r.Name, r.Model, r.Settings, digits, images, repeats)).ToList();
        return new Dictionary<string, object>
        {
            ["images"] = images, ["repeats"] = repeats, ["threads"] = Environment.ProcessorCount, ["results"] = results,
        };
    }

    private static Dictionary<string, object> Measure(string name, string model, string[] settings, ImageSet digits,
        int count, int repeats)
    {
        var ml = new MLContext(1);
        var pairs = settings.Select(TrainBenchmark.ParseSetting).Append(("MaximumNumberOfEpochs", "1")).ToList();
        var (fit, _) = TrainBenchmark.CreateEstimator(ml, model, pairs);
        AutoregressiveDensityTransformer fitted = fit(digits.Slice(0, 1000).ToDataView(ml), null);
        // The 1000 test digits, repeated to make up --images when more are asked for (a long run shows the steady state
        // that per-cursor set-up costs hide in a short one).
        ImageSet testDigits = digits.Slice(9000, 1000);
        ImageSet test = new(Enumerable.Range(0, count).SelectMany(i => testDigits.GetImage(i % 1000)).ToArray(), 28, 28,
            Enumerable.Range(0, count).Select(i => testDigits.Labels![i % 1000]).ToArray());
        ImageSet few = test.Slice(0, Math.Max(1, Math.Min(count, 1000) / 5));
        // Cached, so every timed cursor reads memory: LoadFromEnumerable builds its getters per cursor (tens of ms), a
        // fixed cost of the source, not of scoring.
        IDataView data = ml.Data.Cache(test.ToDataView(ml)), fewData = ml.Data.Cache(few.ToDataView(ml));
        data.GetColumn<float>("Label").Count();
        fewData.GetColumn<float>("Label").Count();
        var result = new Dictionary<string, object> { ["model"] = name, ["parameters"] = fitted.ParameterCount };

        float[] expected = [];
        result["transform_read_ahead"] = Rate(count, repeats, () =>
            expected = fitted.Transform(data).GetColumn<float>(fitted.LogLikelihoodColumnName).ToArray());
        result["model_passes_only"] = ModelPassesOnly(fitted, test, count, repeats);
        result["transform_row_by_row"] = Rate(few.Count, repeats, () => RowByRow(fitted, fewData));
        using (var engine = ml.Model.CreatePredictionEngine<PixelsRow, ScoreRow>(fitted))
        {
            var rows = Enumerable.Range(0, few.Count).Select(i => new PixelsRow { Pixels = few.GetImage(i) }).ToArray();
            result["prediction_engine"] = Rate(few.Count, repeats, () =>
                { foreach (var row in rows) engine.Predict(row); });
        }

        string path = Path.Combine(Path.GetTempPath(), $"mlnetar-score-{Guid.NewGuid():N}.onnx");
        try
        {
            using (var stream = File.Create(path)) ml.Model.ConvertToOnnx(fitted, data, stream);
            result["onnx_megabytes"] = Math.Round(new FileInfo(path).Length / 1048576.0, 2);
            using var options = new SessionOptions
            {
                IntraOpNumThreads = Environment.ProcessorCount,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL
            };
            using var session = new InferenceSession(path, options);
            float[] onnx = [];
            result["onnx_runtime_batch_1"] = Rate(few.Count, repeats, () => OnnxScores(session, few, 1));
            result["onnx_runtime_batch_256"] = Rate(count, repeats, () => onnx = OnnxScores(session, test, 256));
            result["largest_onnx_difference_nats"] = expected.Zip(onnx, (a, b) => Math.Abs((double)a - b)).Max();
        }
        finally
        {
            File.Delete(path);
        }
        Console.Error.WriteLine($"{name}: "
            + string.Join(", ", result.Where(kv => kv.Value is Dictionary<string, double>)
            .Select(kv => $"{kv.Key} {((Dictionary<string, double>)kv.Value)["median"]}"))
                + $", ONNX difference {result["largest_onnx_difference_nats"]:G3} nats");
        return result;
    }

    /// <summary>
    /// The batched model passes of <c>Transform</c> without the cursor around them (reading, encoding and handing out
    /// rows): pre-encoded pixels through the same batch scorer. The gap to <c>transform_read_ahead</c> is the cursor's
    /// cost.
    /// </summary>
    private static Dictionary<string, double> ModelPassesOnly(AutoregressiveDensityTransformer fitted, ImageSet images,
        int count, int repeats)
    {
        float[] encoded = (float[])images.Pixels.Clone();
        for (int r = 0; r < images.Count; r++)
            fitted.Encoder.Encode(encoded.AsSpan(r * images.Dimension, images.Dimension), r);
        return Rate(count, repeats, () =>
        {
            using var scorer = new MLNetAr.Scoring.BatchScorer(fitted, pixelScores: false);
            for (int start = 0; start < images.Count; start += scorer.Capacity)
            {
                int rows = Math.Min(scorer.Capacity, images.Count - start);
                for (int r = 0; r < rows; r++)
                    encoded.AsSpan((start + r) * images.Dimension, images.Dimension).CopyTo(scorer.Pixels(r));
                scorer.Score(rows);
            }
        });
    }

    /// <summary>The per-row path: the transformer's row mapper over a cursor, one model pass per row.</summary>
    private static void RowByRow(AutoregressiveDensityTransformer fitted, IDataView data)
    {
        IRowToRowMapper mapper = fitted.GetRowToRowMapper(data.Schema);
        DataViewSchema.Column column = mapper.OutputSchema[fitted.LogLikelihoodColumnName];
        using var cursor = data.GetRowCursor(mapper.GetDependencies([column]));
        using var row = mapper.GetRow(cursor, [column]);
        var getter = row.GetGetter<float>(column);
        float value = 0;
        while (cursor.MoveNext()) getter(ref value);
    }

    /// <summary><c>LogLikelihood.output</c> of every image, fed in batches of <paramref name="batch"/>.</summary>
    private static float[] OnnxScores(InferenceSession session, ImageSet images, int batch)
    {
        var scores = new List<float>(images.Count);
        string input = session.InputNames.Single(n => n == "Pixels");
        for (int start = 0; start < images.Count; start += batch)
        {
            int rows = Math.Min(batch, images.Count - start);
            var tensor = new DenseTensor<float>(images.Pixels.AsMemory(start * images.Dimension, rows
                * images.Dimension), [rows, images.Height, images.Width]);
            using var outputs = session.Run([NamedOnnxValue.CreateFromTensor(input, tensor), LabelInput(session, rows)],
                ["LogLikelihood.output"]);
            scores.AddRange(outputs[0].AsTensor<float>());
        }
        return scores.ToArray();
    }

    /// <summary>The converter makes every input column a graph input, the unused Label too.</summary>
    private static NamedOnnxValue LabelInput(InferenceSession session, int rows) =>
        NamedOnnxValue.CreateFromTensor(session.InputNames.Single(n => n == "Label"),
            new DenseTensor<float>(new float[rows], [rows, 1]));

    /// <summary>
    /// Images per second of <paramref name="count"/> images: warm-up runs for at least half a second (so the JIT's
    /// tiered compilation has reached optimised code), then median and best of the timed runs.
    /// </summary>
    private static Dictionary<string, double> Rate(int count, int repeats, Action run)
    {
        var warmUp = Stopwatch.StartNew();
        do run(); while (warmUp.Elapsed.TotalSeconds < 0.5);
        var rates = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            run();
            rates.Add(count / clock.Elapsed.TotalSeconds);
        }
        rates.Sort();
        return new Dictionary<string, double>
        {
            ["median"] = Math.Round(rates[rates.Count / 2], 1),
            ["best"] = Math.Round(rates[^1], 1)
        };
    }

    private sealed class PixelsRow
    {
        [VectorType(784)] public float[] Pixels { get; set; } = [];
    }

    private sealed class ScoreRow
    {
        public float LogLikelihood { get; set; }
    }
}
