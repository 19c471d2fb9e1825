using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetAr.Examples;

public static class SaveAtomically
{
    /// <summary>
    /// Saves a fitted model like <c>mlContext.Model.Save</c>, but so that a crash mid-save never leaves a partial file:
    /// it writes a temporary file beside the destination and renames it over the old model.
    /// </summary>
    public static void Example()
    {
        var mlContext = new MLContext(seed: 0);
        IDataView train = Digits.Load(mlContext, 0, 2000), test = Digits.Load(mlContext, 9000, 100);
        ITransformer model = mlContext.Transforms.FvsbnDensity(maximumNumberOfEpochs: 2, seed: 1).Fit(train);

        string folder = Directory.CreateTempSubdirectory("mlnetar-example-").FullName;
        string path = Path.Combine(folder, "fvsbn.zip");
        mlContext.Model.SaveAtomically(model, train.Schema, path);
        mlContext.Model.SaveAtomically(model, train.Schema, path); // replaces the first file in one rename

        ITransformer loaded = mlContext.Model.Load(path, out _);
        float[] Scores(ITransformer m) => m.Transform(test).GetColumn<float>("LogLikelihood").ToArray();
        bool same = Scores(model).SequenceEqual(Scores(loaded));
        Console.WriteLine($"saved {new FileInfo(path).Length / 1024} KB; the loaded model scores the same: {same}; " +
            $"files in the folder: {Directory.GetFiles(folder).Length}");
        Directory.Delete(folder, recursive: true);

        // Expected output:
        //   saved 1114 KB; the loaded model scores the same: True; files in the folder: 1
    }
}
