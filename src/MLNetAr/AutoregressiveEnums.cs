namespace MLNetAr;

/// <summary>Which order an autoregressive model takes the pixels in.</summary>
public enum InputOrder
{
    /// <summary>Raster order: pixel 0 first (top-left), then left to right, top to bottom.</summary>
    Natural,
    /// <summary>A random permutation drawn from the seed (fixed for the model's lifetime).</summary>
    Random,
}

/// <summary>Hidden-unit nonlinearity.</summary>
public enum HiddenActivation
{
    /// <summary>Logistic sigmoid, as in the original NADE.</summary>
    Sigmoid,
    /// <summary>Rectified linear unit.</summary>
    Relu,
}

/// <summary>Recurrent cell of the pixel RNN (<see cref="PixelRnnDensityEstimator"/>).</summary>
public enum RecurrentCell
{
    /// <summary>Long short-term memory (input, forget, cell and output gates).</summary>
    Lstm,
    /// <summary>Gated recurrent unit (reset and update gates): three quarters of the LSTM's weights.</summary>
    Gru,
}

/// <summary>The minibatch optimiser that trains a density model.</summary>
public enum TrainingOptimizer
{
    /// <summary>Adam (Kingma &amp; Ba 2015) with bias correction, β₁ = 0.9, β₂ = 0.999, ε = 1e-8.</summary>
    Adam,
    /// <summary>Adagrad (Duchi et al. 2011), ε = 1e-6: the optimiser of MADE's published results.</summary>
    Adagrad,
    /// <summary>
    /// Stochastic gradient descent with heavy-ball momentum (<see cref="AutoregressiveDensityOptions.Momentum"/>).
    /// </summary>
    SgdMomentum,
}

/// <summary>How the learning rate changes during training.</summary>
public enum LearningRateSchedule
{
    /// <summary>The learning rate stays at <see cref="AutoregressiveDensityOptions.LearningRate"/>.</summary>
    Constant,
    /// <summary>
    /// Decays linearly, step by step, from the learning rate to 0 at the end of
    /// <see cref="AutoregressiveDensityOptions.MaximumNumberOfEpochs"/>.
    /// </summary>
    LinearDecay,
    /// <summary>
    /// Decays along half a cosine, <c>lr·(1 + cos(π·progress))/2</c>, to 0 at the end of the last epoch.
    /// </summary>
    CosineDecay,
    /// <summary>
    /// Multiplies the learning rate by <see cref="AutoregressiveDensityOptions.LearningRateDecayFactor"/> whenever the
    /// validation NLL has not improved for <see cref="AutoregressiveDensityOptions.PlateauPatience"/> epochs.
    /// </summary>
    ReduceOnPlateau,
}
