using PdfSharp.Fonts;

namespace Funnel.Invoices.Pdf;

/// <summary>Resolves every typeface to the DejaVu Sans font embedded in this assembly (bold and italic simulated).</summary>
/// <remarks>
/// PDFsharp 6 finds no system fonts on Linux by itself: without a resolver, drawing text throws. Embedding the font keeps
/// the output the same on every machine, fonts installed or not. <see cref="Install"/> registers it once per process as
/// PDFsharp's <see cref="GlobalFontSettings.FontResolver"/>, or, when the app set its own, as the
/// <see cref="GlobalFontSettings.FallbackFontResolver"/> for the families the app's resolver does not know.
/// </remarks>
internal sealed class EmbeddedFontResolver : IFontResolver
{
    /// <summary>The family the renderer asks for.</summary>
    public const string Family = "DejaVu Sans";

    private const string Face = "DejaVuSans";
    private static readonly Lock Gate = new();
    private static readonly EmbeddedFontResolver Instance = new();
    private static readonly Lazy<byte[]> Font = new(Load);

    private EmbeddedFontResolver()
    {
    }

    /// <summary>Registers the resolver with PDFsharp unless already done.</summary>
    public static void Install()
    {
        lock (Gate)
        {
            if (ReferenceEquals(GlobalFontSettings.FontResolver, Instance) || ReferenceEquals(GlobalFontSettings.FallbackFontResolver, Instance))
            {
                return;
            }

            if (GlobalFontSettings.FontResolver is null)
            {
                GlobalFontSettings.FontResolver = Instance;
            }
            else if (GlobalFontSettings.FallbackFontResolver is null)
            {
                GlobalFontSettings.FallbackFontResolver = Instance;
            }
        }
    }

    public FontResolverInfo ResolveTypeface(string familyName, bool isBold, bool isItalic) => new(Face, isBold, isItalic);

    public byte[]? GetFont(string faceName) => faceName == Face ? Font.Value : null;

    private static byte[] Load()
    {
        using Stream stream = typeof(EmbeddedFontResolver).Assembly.GetManifestResourceStream("Funnel.Invoices.Pdf.Fonts.DejaVuSans.ttf")
            ?? throw new InvalidOperationException("The embedded font Funnel.Invoices.Pdf.Fonts.DejaVuSans.ttf is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
