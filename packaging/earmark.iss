; Per-user Windows installer for the frozen Earmark (Inno Setup 6.3 or later).
;
; Build the onedir first (python packaging\build.py -> dist\earmark), then, from the
; repository root:
;   iscc /DAppVersion=0.1.0 packaging\earmark.iss
; which writes dist\Earmark-0.1.0-setup.exe. Relative paths below are relative to this file.
;
; No administrator rights: PrivilegesRequired=lowest installs per user into
; {localappdata}\Programs\Earmark (what {userpf} names on Windows) and writes only
; HKEY_CURRENT_USER. Not {autopf}: wine 8.0 cannot resolve it (FOLDERID_UserProgramFiles is
; E_INVALIDARG there), so setup aborted at start and could not be tested under wine
; (packaging/wine/windows-test.sh). The Start-menu shortcut carries the same AppUserModelID
; the frozen app sets at start (packaging/rthook_windows.py), so Windows attributes the
; tray's toasts and the taskbar button to "Earmark" with its icon.
;
; The optional task "Open magnet links with Earmark" writes HKCU\Software\Classes\magnet in
; the layout gui/magnet_handler.py's WindowsMagnetRegistrar writes (so the app's settings see
; it as registered); uninstalling removes that key only while it still runs this Earmark,
; leaving another program's later registration alone, as the app's own unregister does.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\dist\earmark"
#endif
#ifndef OutputDir
  #define OutputDir "..\dist"
#endif
#define AppName "Earmark"
#define AppExe "Earmark.exe"
#define AppUserModelID "Earmark.Earmark"
#define MagnetKey "Software\Classes\magnet"

[Setup]
; The braces of a GUID AppId are doubled: a single { starts a constant.
AppId={{4AE283AF-A712-4BA7-9D1E-9D8E0BCA2692}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppName}
VersionInfoProductName={#AppName}
VersionInfoDescription={#AppName} setup
PrivilegesRequired=lowest
DefaultDirName={localappdata}\Programs\{#AppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename={#AppName}-{#AppVersion}-setup
SetupIconFile=..\resources\icons\earmark.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
; Tell Explorer to re-read URL associations after install and uninstall (SHChangeNotify).
ChangesAssociations=yes
; A running Earmark holds its files open: offer to close it (Restart Manager).
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "magnet"; Description: "Open magnet links with Earmark"; GroupDescription: "Links:"; Flags: unchecked
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An update replaces the whole bundle: files a newer build no longer has must not linger.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Excludes: ".build-stamp"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; AppUserModelID: "{#AppUserModelID}"; Comment: "Audiobook acquisition for qBittorrent and Audiobookshelf"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; AppUserModelID: "{#AppUserModelID}"; Tasks: desktopicon

[Registry]
; Doubled quotes inside a quoted parameter are literal quotes: the command is
; "C:\...\Earmark.exe" "%1" (every part quoted: a magnet link contains &).
Root: HKCU; Subkey: "{#MagnetKey}"; ValueType: string; ValueName: ""; ValueData: "URL:Magnet link"; Tasks: magnet
Root: HKCU; Subkey: "{#MagnetKey}"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""; Tasks: magnet
Root: HKCU; Subkey: "{#MagnetKey}"; ValueType: string; ValueName: "Content Type"; ValueData: "application/x-magnet"; Tasks: magnet
Root: HKCU; Subkey: "{#MagnetKey}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"; Tasks: magnet
Root: HKCU; Subkey: "{#MagnetKey}\shell"; ValueType: string; ValueName: ""; ValueData: "open"; Tasks: magnet
Root: HKCU; Subkey: "{#MagnetKey}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: magnet

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
{ The command Earmark's magnet registration runs, exactly as [Registry] writes it. }
function EarmarkMagnetCommand(): String;
begin
  Result := '"' + ExpandConstant('{app}\{#AppExe}') + '" "%1"';
end;

{ Remove the magnet handler only while it is still this Earmark's: another program may have
  taken magnet links over since, and its registration is not ours to delete. }
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Command: String;
begin
  if CurUninstallStep = usUninstall then
  begin
    if RegQueryStringValue(HKCU, '{#MagnetKey}\shell\open\command', '', Command) then
    begin
      if CompareText(Trim(Command), EarmarkMagnetCommand()) = 0 then
        RegDeleteKeyIncludingSubkeys(HKCU, '{#MagnetKey}');
    end;
  end;
end;
