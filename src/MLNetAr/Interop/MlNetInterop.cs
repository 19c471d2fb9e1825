// src/MLNetAr/Interop is the only folder that touches ML.NET internals (MlNetInternalsBoundaryTests reads the built
// assembly's IL and holds it). ML.NET 5.0.1 keeps its model save/load contract, catalog
// environments, the SchemaShape.Column constructor (dotnet/machinelearning#4911) and the image operations behind
// ResizeImages and ConvertToGrayscale internal. MLNetAr compiles against publicized copies of
// Microsoft.ML.Core/Data/ImageAnalytics (see MLNetAr.csproj) and, at run time, CoreCLR honours
// [IgnoresAccessChecksTo] so the real, unmodified assemblies are used. The save/load round-trip tests guard this.
using System.Runtime.CompilerServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;
using MLNetAr;
using MLNetAr.Interop;

[assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Data")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.ImageAnalytics")]
[assembly: LoadableClass(typeof(AutoregressiveDensityTransformer),
    typeof(SavedModelLoader<AutoregressiveDensityTransformer>), null, typeof(SignatureLoadModel),
    "Autoregressive Density Transformer", AutoregressiveDensityTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(AutoregressiveAnomalyTransformer),
    typeof(SavedModelLoader<AutoregressiveAnomalyTransformer>), null, typeof(SignatureLoadModel),
    "Autoregressive Anomaly Transformer", AutoregressiveAnomalyTransformer.LoaderSignature)]

namespace System.Runtime.CompilerServices
{
    /// <summary>Tells CoreCLR to skip access checks from this assembly into the named one.</summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute(string assemblyName) : Attribute
    {
        public string AssemblyName { get; } = assemblyName;
    }
}

namespace MLNetAr.Interop
{
    internal static class MlNetInterop
    {
        /// <summary>The environment behind <c>mlContext.Transforms</c>.</summary>
        public static IHostEnvironment GetEnvironment(TransformsCatalog catalog) =>
            CatalogUtils.GetEnvironment(catalog);

        /// <summary>The environment behind <c>mlContext.AnomalyDetection.Trainers</c>.</summary>
        public static IHostEnvironment GetEnvironment(AnomalyDetectionCatalog.AnomalyDetectionTrainers catalog) =>
            CatalogUtils.GetEnvironment(catalog);

        /// <summary>
        /// Whether the host was cancelled (ML.NET's internal <c>CancelExecution</c>, used by hosts such as AutoML).
        /// </summary>
        public static bool IsCancelled(IHostEnvironment env) => env is ICancelable cancelable && cancelable.IsCanceled;

        /// <summary>An information line in <c>mlContext.Log</c> (ML.NET's <c>Info</c> extension is internal).</summary>
        public static void LogInfo(this IChannel channel, string message) => channel.Info(message);

        /// <summary>A warning in <c>mlContext.Log</c> (ML.NET's <c>Warning</c> extension is internal).</summary>
        public static void LogWarning(this IChannel channel, string message) => channel.Warning(message);

        /// <summary>A column of an estimator's output schema shape (its constructor is internal).</summary>
        public static SchemaShape.Column SchemaColumn(string name, SchemaShape.Column.VectorKind kind,
            DataViewType itemType, bool isKey = false) =>
            new(name, kind, itemType, isKey);

        /// <summary>A <see cref="SchemaShape"/> from columns (its constructor is internal).</summary>
        public static SchemaShape Shape(IEnumerable<SchemaShape.Column> columns) => new(columns);

        /// <summary>
        /// The estimator-level shape of a data schema (what <c>EstimatorChain.Fit</c> passes to GetOutputSchema).
        /// </summary>
        public static SchemaShape ShapeOf(DataViewSchema schema) => SchemaShape.Create(schema);

        /// <summary>
        /// What <c>ResizeImages</c> does to one image (a new image, or the same one when it already has the size).
        /// </summary>
        public static MLImage Resize(MLImage image, int width, int height, ImageResizingEstimator.ResizingKind resizing,
            ImageResizingEstimator.Anchor anchor) =>
            image.Width == width && image.Height == height ? image
                : image.CloneWithResizing(width, height, resizing switch
                {
                    ImageResizingEstimator.ResizingKind.IsoPad => ImageResizeMode.Pad,
                    ImageResizingEstimator.ResizingKind.Fill => ImageResizeMode.Fill,
                    _ => anchor switch
                    {
                        ImageResizingEstimator.Anchor.Top => ImageResizeMode.CropAnchorTop,
                        ImageResizingEstimator.Anchor.Bottom => ImageResizeMode.CropAnchorBottom,
                        ImageResizingEstimator.Anchor.Left => ImageResizeMode.CropAnchorLeft,
                        ImageResizingEstimator.Anchor.Right => ImageResizeMode.CropAnchorRight,
                        _ => ImageResizeMode.CropAnchorCentral,
                    },
                });

        /// <summary>What <c>ConvertToGrayscale</c> does to one image (always a new image).</summary>
        public static MLImage Grayscale(MLImage image) => image.CloneWithGrayscale();
    }
}
