#Requires -Version 5.1
<#
.SYNOPSIS
Removes what install.ps1 set up: stops and unregisters the logon task, deletes the firewall rule
and the installed binaries (and web.yml), and the log unless -KeepLogs. Run it from an elevated
PowerShell:

  powershell -ExecutionPolicy Bypass -File deploy\windows\uninstall.ps1
#>
[CmdletBinding()]
param([switch] $KeepLogs)
$ErrorActionPreference = 'Stop'
$name = 'candy_cadence_exporter'

$task = Get-ScheduledTask -TaskName $name -ErrorAction SilentlyContinue
if ($task) {
    Stop-ScheduledTask -TaskName $name
    $dir = Split-Path ([Environment]::ExpandEnvironmentVariables($task.Actions[0].Execute))
    Unregister-ScheduledTask -TaskName $name -Confirm:$false
    Start-Sleep -Seconds 2
    # Only a folder install.ps1 made: its name is the exporter's.
    if ((Split-Path $dir -Leaf) -eq $name) { Remove-Item -Recurse -Force -Path $dir }
}
Get-NetFirewallRule -DisplayName $name -ErrorAction SilentlyContinue | Remove-NetFirewallRule
if (-not $KeepLogs) {
    Remove-Item -Recurse -Force -ErrorAction SilentlyContinue -Path (Join-Path $env:LOCALAPPDATA $name)
}
Write-Host "Removed the task, the firewall rule and the binaries of $name."
