using System.Text;

namespace Funnel.Tests.Leads.Csv;

/// <summary>Real files in a temporary folder, written byte for byte, deleted with the instance.</summary>
internal sealed class CsvFiles : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "funnel-csv-" + Guid.NewGuid().ToString("N"));

    public CsvFiles() => Directory.CreateDirectory(_folder);

    /// <summary>Writes the text as UTF-8, with a byte order mark when asked, and returns the path.</summary>
    public string Write(string text, bool byteOrderMark = false)
    {
        string path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".csv");
        File.WriteAllBytes(path, [.. (byteOrderMark ? Encoding.UTF8.GetPreamble() : []), .. Encoding.UTF8.GetBytes(text)]);
        return path;
    }

    public string NewPath() => Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".csv");

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
