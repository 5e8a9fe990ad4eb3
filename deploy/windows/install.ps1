#Requires -Version 5.1
<#
.SYNOPSIS
Installs candy_cadence_exporter for one desktop user: copies the binaries, registers the logon
task from candy_cadence_exporter.xml, opens TCP 10933 to the Prometheus server only, and starts
the exporter. Run it from an elevated PowerShell (the firewall rule needs it), from the unpacked
release folder:

  powershell -ExecutionPolicy Bypass -File deploy\windows\install.ps1 -PrometheusAddress 10.0.0.5

.PARAMETER PrometheusAddress
The Prometheus server(s) allowed to connect: an address, a subnet (10.0.0.0/24), or a list.
.PARAMETER Scope
User (default): binaries in %LOCALAPPDATA%\Programs\candy_cadence_exporter of the account
running this script. Machine: in %ProgramFiles%\candy_cadence_exporter (use it with -User when
the elevated account is not the desktop user).
.PARAMETER User
The desktop user the exporter runs as and whose logon starts it. Default: the current user.
.PARAMETER AppWorkingDir
The application's working directory (its relative data\, cache\, logs\ resolve there). Default:
the folder of the running application (3D-MM.exe or Digital Workshop.exe), else the user's profile.
.PARAMETER TlsCertFile
With -TlsKeyFile: serve HTTPS with this certificate (writes web.yml, --web.config.file).
.PARAMETER BasicAuthUser
With -BasicAuthPasswordHash (a bcrypt hash, e.g. from htpasswd -nbB): require basic auth.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)] [string[]] $PrometheusAddress,
    [ValidateSet('User', 'Machine')] [string] $Scope = 'User',
    [string] $User = "$env:USERDOMAIN\$env:USERNAME",
    [ValidateRange(1, 65535)] [int] $Port = 10933,
    [string] $AppWorkingDir,
    [string] $TlsCertFile,
    [string] $TlsKeyFile,
    [string] $BasicAuthUser,
    [string] $BasicAuthPasswordHash
)
$ErrorActionPreference = 'Stop'
$name = 'candy_cadence_exporter'
$release = (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path

if ([bool]$TlsCertFile -ne [bool]$TlsKeyFile) { throw 'Give both -TlsCertFile and -TlsKeyFile, or neither.' }
if ([bool]$BasicAuthUser -ne [bool]$BasicAuthPasswordHash) { throw 'Give both -BasicAuthUser and -BasicAuthPasswordHash, or neither.' }
$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this script from an elevated PowerShell ("Run as administrator"): the firewall rule needs it.'
}

if ($Scope -eq 'Machine') { $dir = Join-Path $env:ProgramFiles $name }
else { $dir = Join-Path $env:LOCALAPPDATA "Programs\$name" }
if (-not $AppWorkingDir) {
    $app = Get-Process -Name '3D-MM', 'Digital Workshop' -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($app -and $app.Path) { $AppWorkingDir = Split-Path $app.Path } else { $AppWorkingDir = '%USERPROFILE%' }
}

# An upgrade: stop the running exporter so that its binary can be replaced.
if (Get-ScheduledTask -TaskName $name -ErrorAction SilentlyContinue) {
    Stop-ScheduledTask -TaskName $name
    Start-Sleep -Seconds 2
}
New-Item -ItemType Directory -Force -Path $dir | Out-Null
Copy-Item -Force -Path (Join-Path $release "$name.exe"), (Join-Path $release "${name}_nowindow.exe") -Destination $dir

# The exporter's arguments; %LOCALAPPDATA% is expanded by Task Scheduler for the task's user.
$arguments = @('--log.file="%LOCALAPPDATA%\candy_cadence_exporter\exporter.log"')
if ($Port -ne 10933) { $arguments += "--web.listen-address=:$Port" }
if ($TlsCertFile -or $BasicAuthUser) {
    # Single-quoted YAML strings: a quote inside is doubled, nothing else is special.
    function Quote([string] $s) { "'" + $s.Replace("'", "''") + "'" }
    $yaml = @()
    if ($TlsCertFile) {
        $yaml += 'tls_server_config:', "  cert_file: $(Quote (Resolve-Path $TlsCertFile).Path)", "  key_file: $(Quote (Resolve-Path $TlsKeyFile).Path)"
    }
    if ($BasicAuthUser) { $yaml += 'basic_auth_users:', "  $(Quote $BasicAuthUser): $(Quote $BasicAuthPasswordHash)" }
    $webConfig = Join-Path $dir 'web.yml'
    Set-Content -Path $webConfig -Value $yaml -Encoding UTF8
    $arguments += "--web.config.file=`"$webConfig`""
}

[xml] $task = Get-Content -Raw -Encoding UTF8 -Path (Join-Path $PSScriptRoot "$name.xml")
$task.Task.Triggers.LogonTrigger.UserId = $User
$task.Task.Principals.Principal.UserId = $User
$task.Task.Actions.Exec.Command = Join-Path $dir "${name}_nowindow.exe"
$task.Task.Actions.Exec.Arguments = $arguments -join ' '
$task.Task.Actions.Exec.WorkingDirectory = $AppWorkingDir
Register-ScheduledTask -TaskName $name -Xml $task.OuterXml -Force | Out-Null

Get-NetFirewallRule -DisplayName $name -ErrorAction SilentlyContinue | Remove-NetFirewallRule
New-NetFirewallRule -DisplayName $name -Description 'Prometheus scrapes of candy_cadence_exporter' `
    -Direction Inbound -Action Allow -Protocol TCP -LocalPort $Port -RemoteAddress $PrometheusAddress `
    -Program (Join-Path $dir "${name}_nowindow.exe") | Out-Null

if ($User -eq "$env:USERDOMAIN\$env:USERNAME") { Start-ScheduledTask -TaskName $name }
Write-Host "Installed in $dir; task '$name' starts at $User's logon; port $Port open to $($PrometheusAddress -join ', ')."
Write-Host "Log: %LOCALAPPDATA%\candy_cadence_exporter\exporter.log of $User. Check: curl.exe http://localhost:$Port/-/healthy"
