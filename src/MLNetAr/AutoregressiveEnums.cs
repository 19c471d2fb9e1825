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
