import * as fs from 'node:fs';
import * as path from 'node:path';

// A jest setup file. The Python tools the tests run (moto_server, cfn-lint) are pinned in
// requirements-dev.txt and installed into .venv by the README's test command; put that venv first
// on PATH so the pinned versions win over whatever else the machine has.
const venvBin = path.join(__dirname, '..', '..', '.venv', 'bin');
if (fs.existsSync(venvBin) && !(process.env.PATH ?? '').split(path.delimiter).includes(venvBin)) {
  process.env.PATH = [venvBin, process.env.PATH].filter(Boolean).join(path.delimiter);
}
