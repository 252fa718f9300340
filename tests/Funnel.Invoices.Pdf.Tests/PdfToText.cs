using System.Diagnostics;

namespace Funnel.Invoices.Pdf.Tests;

/// <summary>Extracts the text of a PDF with poppler's <c>pdftotext</c> (Debian <c>poppler-utils</c>, which <c>.ci/run</c> installs).</summary>
/// <remarks>When the tool is missing the call fails with a message saying how to install it: the tests are never skipped.</remarks>
internal static class PdfToText
{
    public static async Task<string> ExtractAsync(byte[] pdf)
    {
        string file = Path.Combine(Path.GetTempPath(), $"funnel-invoice-{Guid.NewGuid():N}.pdf");
        await File.WriteAllBytesAsync(file, pdf);
        try
        {
            var start = new ProcessStartInfo("pdftotext")
            {
                ArgumentList = { "-layout", "-enc", "UTF-8", file, "-" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            Process process;
            try
            {
                process = Process.Start(start)!;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException(
                    "pdftotext was not found. Install Debian's poppler-utils (apt-get install -y poppler-utils); .ci/run does so when it is missing.", e);
            }

            using (process)
            {
                Task<string> output = process.StandardOutput.ReadToEndAsync();
                string error = await process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                process.ExitCode.ShouldBe(0, $"pdftotext failed: {error}");
                return await output;
            }
        }
        finally
        {
            File.Delete(file);
        }
    }
}
