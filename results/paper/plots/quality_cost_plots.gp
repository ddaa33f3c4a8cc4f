# written by marill plot; run in this directory: gnuplot THIS_FILE
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1100,620 font ',10'
} else {
  set terminal png size 1100,620
}
set termoption noenhanced

reset
set datafile missing 'NaN'
set output 'quality_cost_fig4_prefill_time.png'
set title 'quality_cost: prefill, time improvement (baseline sim_s / sim_s)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:8.50104]
set xrange [-0.6:1.6]
set xtics ('3pc' 0, '2pc-dealer' 1)
set ylabel 'improvement factor (x)'
set grid ytics
set key outside right top
plot 'quality_cost_fig4_prefill_time.dat' using 2 title 'full', 'quality_cost_fig4_prefill_time.dat' using 3 title 'lf', 'quality_cost_fig4_prefill_time.dat' using 4 title 'lora', 'quality_cost_fig4_prefill_time.dat' using 5 title 'lf+lora', 'quality_cost_fig4_prefill_time.dat' using 6 title 'hm2-adj', 'quality_cost_fig4_prefill_time.dat' using 7 title 'hm2-sim', 'quality_cost_fig4_prefill_time.dat' using 8 title 'hm4-adj', 'quality_cost_fig4_prefill_time.dat' using 9 title 'hm4-sim', 'quality_cost_fig4_prefill_time.dat' using 10 title 'hp2', 'quality_cost_fig4_prefill_time.dat' using 11 title 'hp4', 'quality_cost_fig4_prefill_time.dat' using 12 title 'lp', 'quality_cost_fig4_prefill_time.dat' using 13 title 'lf+hm2', 'quality_cost_fig4_prefill_time.dat' using 14 title '2relu', 'quality_cost_fig4_prefill_time.dat' using 15 title '2relu+lf+hm2', 'quality_cost_fig4_prefill_time.dat' using 16 title '2quad', 'quality_cost_fig4_prefill_time.dat' using 17 title 'relu-act', 'quality_cost_fig4_prefill_time.dat' using 18 title 'quad-act', 'quality_cost_fig4_prefill_time.dat' using ($0 + (0 - 8) / 18.0):2:(sprintf('%.2f', $2)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (1 - 8) / 18.0):3:(sprintf('%.2f', $3)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (2 - 8) / 18.0):4:(sprintf('%.2f', $4)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (3 - 8) / 18.0):5:(sprintf('%.2f', $5)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (4 - 8) / 18.0):6:(sprintf('%.2f', $6)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (5 - 8) / 18.0):7:(sprintf('%.2f', $7)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (6 - 8) / 18.0):8:(sprintf('%.2f', $8)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (7 - 8) / 18.0):9:(sprintf('%.2f', $9)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (8 - 8) / 18.0):10:(sprintf('%.2f', $10)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (9 - 8) / 18.0):11:(sprintf('%.2f', $11)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (10 - 8) / 18.0):12:(sprintf('%.2f', $12)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (11 - 8) / 18.0):13:(sprintf('%.2f', $13)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (12 - 8) / 18.0):14:(sprintf('%.2f', $14)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (13 - 8) / 18.0):15:(sprintf('%.2f', $15)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (14 - 8) / 18.0):16:(sprintf('%.2f', $16)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (15 - 8) / 18.0):17:(sprintf('%.2f', $17)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_time.dat' using ($0 + (16 - 8) / 18.0):18:(sprintf('%.2f', $18)) with labels offset 0,0.7 font ',8' notitle
unset output

reset
set datafile missing 'NaN'
set output 'quality_cost_fig4_prefill_comm.png'
set title 'quality_cost: prefill, communication improvement (baseline bytes / bytes)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:7.5966]
set xrange [-0.6:1.6]
set xtics ('3pc' 0, '2pc-dealer' 1)
set ylabel 'improvement factor (x)'
set grid ytics
set key outside right top
plot 'quality_cost_fig4_prefill_comm.dat' using 2 title 'full', 'quality_cost_fig4_prefill_comm.dat' using 3 title 'lf', 'quality_cost_fig4_prefill_comm.dat' using 4 title 'lora', 'quality_cost_fig4_prefill_comm.dat' using 5 title 'lf+lora', 'quality_cost_fig4_prefill_comm.dat' using 6 title 'hm2-adj', 'quality_cost_fig4_prefill_comm.dat' using 7 title 'hm2-sim', 'quality_cost_fig4_prefill_comm.dat' using 8 title 'hm4-adj', 'quality_cost_fig4_prefill_comm.dat' using 9 title 'hm4-sim', 'quality_cost_fig4_prefill_comm.dat' using 10 title 'hp2', 'quality_cost_fig4_prefill_comm.dat' using 11 title 'hp4', 'quality_cost_fig4_prefill_comm.dat' using 12 title 'lp', 'quality_cost_fig4_prefill_comm.dat' using 13 title 'lf+hm2', 'quality_cost_fig4_prefill_comm.dat' using 14 title '2relu', 'quality_cost_fig4_prefill_comm.dat' using 15 title '2relu+lf+hm2', 'quality_cost_fig4_prefill_comm.dat' using 16 title '2quad', 'quality_cost_fig4_prefill_comm.dat' using 17 title 'relu-act', 'quality_cost_fig4_prefill_comm.dat' using 18 title 'quad-act', 'quality_cost_fig4_prefill_comm.dat' using ($0 + (0 - 8) / 18.0):2:(sprintf('%.2f', $2)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (1 - 8) / 18.0):3:(sprintf('%.2f', $3)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (2 - 8) / 18.0):4:(sprintf('%.2f', $4)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (3 - 8) / 18.0):5:(sprintf('%.2f', $5)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (4 - 8) / 18.0):6:(sprintf('%.2f', $6)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (5 - 8) / 18.0):7:(sprintf('%.2f', $7)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (6 - 8) / 18.0):8:(sprintf('%.2f', $8)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (7 - 8) / 18.0):9:(sprintf('%.2f', $9)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (8 - 8) / 18.0):10:(sprintf('%.2f', $10)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (9 - 8) / 18.0):11:(sprintf('%.2f', $11)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (10 - 8) / 18.0):12:(sprintf('%.2f', $12)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (11 - 8) / 18.0):13:(sprintf('%.2f', $13)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (12 - 8) / 18.0):14:(sprintf('%.2f', $14)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (13 - 8) / 18.0):15:(sprintf('%.2f', $15)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (14 - 8) / 18.0):16:(sprintf('%.2f', $16)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (15 - 8) / 18.0):17:(sprintf('%.2f', $17)) with labels offset 0,0.7 font ',8' notitle, 'quality_cost_fig4_prefill_comm.dat' using ($0 + (16 - 8) / 18.0):18:(sprintf('%.2f', $18)) with labels offset 0,0.7 font ',8' notitle
unset output

reset
set datafile missing 'NaN'
set output 'quality_cost_table2_prefill_time.png'
set title 'quality_cost: prefill, time improvement (baseline sim_s / sim_s) against f'
set xlabel 'freeze f (fraction of the layers that is private)'
set ylabel 'improvement factor (x)'
set grid
set key outside right top
set xrange [0.4:1.05]
set yrange [0:8.14683]
set samples 400
plot 'quality_cost_table2_prefill_time.dat' index 0 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 1 using 1:2 with linespoints lw 2 pt 7 title '3pc r=8 targets=q+k+v+o+gate+up+down m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 2 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=2 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 3 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=2 grouping=similar hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 4 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=4 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 5 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=4 grouping=similar hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 6 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=2 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 7 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=4 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 8 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=1 lp=13 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 9 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=2relu act=exact', 'quality_cost_table2_prefill_time.dat' index 10 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=2 grouping=similar hp=1 lp=0 softmax=2relu act=exact', 'quality_cost_table2_prefill_time.dat' index 11 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=2quad act=exact', 'quality_cost_table2_prefill_time.dat' index 12 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=relu', 'quality_cost_table2_prefill_time.dat' index 13 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=quad', 'quality_cost_table2_prefill_time.dat' index 14 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 15 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=8 targets=q+k+v+o+gate+up+down m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 16 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=2 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 17 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=2 grouping=similar hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 18 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=4 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 19 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=4 grouping=similar hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 20 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=2 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 21 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=4 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 22 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=1 lp=13 softmax=exact act=exact', 'quality_cost_table2_prefill_time.dat' index 23 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=2relu act=exact', 'quality_cost_table2_prefill_time.dat' index 24 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=2 grouping=similar hp=1 lp=0 softmax=2relu act=exact', 'quality_cost_table2_prefill_time.dat' index 25 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=2quad act=exact', 'quality_cost_table2_prefill_time.dat' index 26 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=relu', 'quality_cost_table2_prefill_time.dat' index 27 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=quad', 1/x with lines dt 2 lc rgb 'gray40' title '1/f (no fixed cost)'
unset output

reset
set datafile missing 'NaN'
set output 'quality_cost_table2_prefill_comm.png'
set title 'quality_cost: prefill, communication improvement (baseline bytes / bytes) against f'
set xlabel 'freeze f (fraction of the layers that is private)'
set ylabel 'improvement factor (x)'
set grid
set key outside right top
set xrange [0.4:1.05]
set yrange [0:7.28007]
set samples 400
plot 'quality_cost_table2_prefill_comm.dat' index 0 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 1 using 1:2 with linespoints lw 2 pt 7 title '3pc r=8 targets=q+k+v+o+gate+up+down m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 2 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=2 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 3 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=2 grouping=similar hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 4 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=4 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 5 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=4 grouping=similar hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 6 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=2 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 7 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=4 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 8 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=1 lp=13 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 9 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=2relu act=exact', 'quality_cost_table2_prefill_comm.dat' index 10 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=2 grouping=similar hp=1 lp=0 softmax=2relu act=exact', 'quality_cost_table2_prefill_comm.dat' index 11 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=2quad act=exact', 'quality_cost_table2_prefill_comm.dat' index 12 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=relu', 'quality_cost_table2_prefill_comm.dat' index 13 using 1:2 with linespoints lw 2 pt 7 title '3pc r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=quad', 'quality_cost_table2_prefill_comm.dat' index 14 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 15 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=8 targets=q+k+v+o+gate+up+down m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 16 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=2 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 17 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=2 grouping=similar hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 18 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=4 grouping=adjacent hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 19 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=4 grouping=similar hp=1 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 20 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=2 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 21 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=4 lp=0 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 22 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=1 lp=13 softmax=exact act=exact', 'quality_cost_table2_prefill_comm.dat' index 23 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=2relu act=exact', 'quality_cost_table2_prefill_comm.dat' index 24 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=2 grouping=similar hp=1 lp=0 softmax=2relu act=exact', 'quality_cost_table2_prefill_comm.dat' index 25 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=2quad act=exact', 'quality_cost_table2_prefill_comm.dat' index 26 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=relu', 'quality_cost_table2_prefill_comm.dat' index 27 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer r=0 targets= m=1 grouping=adjacent hp=1 lp=0 softmax=exact act=quad', 1/x with lines dt 2 lc rgb 'gray40' title '1/f (no fixed cost)'
unset output

reset
set datafile missing 'NaN'
set output 'quality_cost_ops_prefill_3pc.png'
set title 'quality_cost: prefill 3pc, share of online bytes by op kind'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.75
set yrange [0:100]
set ylabel 'share of online bytes (%)'
set xtics rotate by -35 ('full' 0, 'lf' 1, 'lora' 2, 'lf+lora' 3, 'hm2-adj' 4, 'hm2-sim' 5, 'hm4-adj' 6, 'hm4-sim' 7, 'hp2' 8, 'hp4' 9, 'lp' 10, 'lf+hm2' 11, '2relu' 12, '2relu+lf+hm2' 13, '2quad' 14, 'relu-act' 15, 'quad-act' 16)
set key outside right top
plot 'quality_cost_ops_prefill_3pc.dat' using 2 title 'layers', 'quality_cost_ops_prefill_3pc.dat' using 3 title 'input', 'quality_cost_ops_prefill_3pc.dat' using 4 title 'argmax', 'quality_cost_ops_prefill_3pc.dat' using 5 title 'lm_head', 'quality_cost_ops_prefill_3pc.dat' using 6 title 'norm', 'quality_cost_ops_prefill_3pc.dat' using 7 title 'reveal'
unset output

reset
set datafile missing 'NaN'
set output 'quality_cost_ops_prefill_2pc-dealer.png'
set title 'quality_cost: prefill 2pc-dealer, share of online bytes by op kind'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.75
set yrange [0:100]
set ylabel 'share of online bytes (%)'
set xtics rotate by -35 ('full' 0, 'lf' 1, 'lora' 2, 'lf+lora' 3, 'hm2-adj' 4, 'hm2-sim' 5, 'hm4-adj' 6, 'hm4-sim' 7, 'hp2' 8, 'hp4' 9, 'lp' 10, 'lf+hm2' 11, '2relu' 12, '2relu+lf+hm2' 13, '2quad' 14, 'relu-act' 15, 'quad-act' 16)
set key outside right top
plot 'quality_cost_ops_prefill_2pc-dealer.dat' using 2 title 'layers', 'quality_cost_ops_prefill_2pc-dealer.dat' using 3 title 'input', 'quality_cost_ops_prefill_2pc-dealer.dat' using 4 title 'argmax', 'quality_cost_ops_prefill_2pc-dealer.dat' using 5 title 'lm_head', 'quality_cost_ops_prefill_2pc-dealer.dat' using 6 title 'norm', 'quality_cost_ops_prefill_2pc-dealer.dat' using 7 title 'reveal'
unset output

reset
set datafile missing 'NaN'
set output 'quality_cost_quality_translate_3pc_time.png'
set title 'quality_cost: translate quality beside time cost, 3pc'
set xlabel 'time improvement (baseline sim_s / sim_s), 3pc'
set ylabel '% of full fine-tuning (translate)'
set grid
set key bottom right
set xrange [0:4.62972]
set yrange [0:128.688]
set label 1 'full' at 1,100 offset 0.8,0.6 font ',9'
set label 2 'lf' at 1.999,82.4 offset 0.8,0.6 font ',9'
set label 3 'lora' at 0.9655,51 offset 0.8,0.6 font ',9'
set label 4 'lf+lora' at 1.93,32.8 offset 0.8,0.6 font ',9'
set label 5 'hm2-adj' at 1.3816,113.9 offset 0.8,0.6 font ',9'
set label 6 'hm2-sim' at 1.3816,114.2 offset 0.8,0.6 font ',9'
set label 7 'hp2' at 1.5176,114.7 offset 0.8,0.6 font ',9'
set label 8 'lp' at 1.999,98.8 offset 0.8,0.6 font ',9'
set label 9 'lf+hm2' at 2.7614,90.6 offset 0.8,0.6 font ',9'
set label 10 '2relu' at 1.7007,114.9 offset 0.8,0.6 font ',9'
set label 11 '2relu+lf+hm2' at 3.8581,91 offset 0.8,0.6 font ',9'
plot 'quality_cost_quality_translate_3pc_time.dat' using 1:2 with points pt 7 ps 1.4 lc rgb '#1f77b4' title 'technique', 'quality_cost_quality_translate_3pc_time_front.dat' using 1:2 with linespoints pt 6 ps 2.8 lw 2 lc rgb '#d62728' title 'Pareto front'
unset output

reset
set datafile missing 'NaN'
set output 'quality_cost_quality_translate_3pc_comm.png'
set title 'quality_cost: translate quality beside comm cost, 3pc'
set xlabel 'communication improvement (baseline bytes / bytes), 3pc'
set ylabel '% of full fine-tuning (translate)'
set grid
set key bottom right
set xrange [0:7.5966]
set yrange [0:128.688]
set label 1 'full' at 1,100 offset 0.8,0.6 font ',9'
set label 2 'lf' at 1.9999,82.4 offset 0.8,0.6 font ',9'
set label 3 'lora' at 0.9586,51 offset 0.8,0.6 font ',9'
set label 4 'lf+lora' at 1.9171,32.8 offset 0.8,0.6 font ',9'
set label 5 'hm2-adj' at 1.6406,113.9 offset 0.8,0.6 font ',9'
set label 6 'hm2-sim' at 1.6406,114.2 offset 0.8,0.6 font ',9'
set label 7 'hp2' at 1.6764,114.7 offset 0.8,0.6 font ',9'
set label 8 'lp' at 1.9999,98.8 offset 0.8,0.6 font ',9'
set label 9 'lf+hm2' at 3.281,90.6 offset 0.8,0.6 font ',9'
set label 10 '2relu' at 2.423,114.9 offset 0.8,0.6 font ',9'
set label 11 '2relu+lf+hm2' at 6.3305,91 offset 0.8,0.6 font ',9'
plot 'quality_cost_quality_translate_3pc_comm.dat' using 1:2 with points pt 7 ps 1.4 lc rgb '#1f77b4' title 'technique', 'quality_cost_quality_translate_3pc_comm_front.dat' using 1:2 with linespoints pt 6 ps 2.8 lw 2 lc rgb '#d62728' title 'Pareto front'
unset output

reset
set datafile missing 'NaN'
set output 'quality_cost_quality_translate_2pc-dealer_time.png'
set title 'quality_cost: translate quality beside time cost, 2pc-dealer'
set xlabel 'time improvement (baseline sim_s / sim_s), 2pc-dealer'
set ylabel '% of full fine-tuning (translate)'
set grid
set key bottom right
set xrange [0:8.50104]
set yrange [0:128.688]
set label 1 'full' at 1,100 offset 0.8,0.6 font ',9'
set label 2 'lf' at 1.9998,82.4 offset 0.8,0.6 font ',9'
set label 3 'lora' at 1.0777,51 offset 0.8,0.6 font ',9'
set label 4 'lf+lora' at 2.1553,32.8 offset 0.8,0.6 font ',9'
set label 5 'hm2-adj' at 1.5904,113.9 offset 0.8,0.6 font ',9'
set label 6 'hm2-sim' at 1.5904,114.2 offset 0.8,0.6 font ',9'
set label 7 'hp2' at 1.6538,114.7 offset 0.8,0.6 font ',9'
set label 8 'lp' at 1.9998,98.8 offset 0.8,0.6 font ',9'
set label 9 'lf+hm2' at 3.181,90.6 offset 0.8,0.6 font ',9'
set label 10 '2relu' at 3.2658,114.9 offset 0.8,0.6 font ',9'
set label 11 '2relu+lf+hm2' at 7.0842,91 offset 0.8,0.6 font ',9'
plot 'quality_cost_quality_translate_2pc-dealer_time.dat' using 1:2 with points pt 7 ps 1.4 lc rgb '#1f77b4' title 'technique', 'quality_cost_quality_translate_2pc-dealer_time_front.dat' using 1:2 with linespoints pt 6 ps 2.8 lw 2 lc rgb '#d62728' title 'Pareto front'
unset output

reset
set datafile missing 'NaN'
set output 'quality_cost_quality_translate_2pc-dealer_comm.png'
set title 'quality_cost: translate quality beside comm cost, 2pc-dealer'
set xlabel 'communication improvement (baseline bytes / bytes), 2pc-dealer'
set ylabel '% of full fine-tuning (translate)'
set grid
set key bottom right
set xrange [0:4.80624]
set yrange [0:128.688]
set label 1 'full' at 1,100 offset 0.8,0.6 font ',9'
set label 2 'lf' at 1.9997,82.4 offset 0.8,0.6 font ',9'
set label 3 'lora' at 0.9853,51 offset 0.8,0.6 font ',9'
set label 4 'lf+lora' at 1.9704,32.8 offset 0.8,0.6 font ',9'
set label 5 'hm2-adj' at 1.5277,113.9 offset 0.8,0.6 font ',9'
set label 6 'hm2-sim' at 1.5277,114.2 offset 0.8,0.6 font ',9'
set label 7 'hp2' at 1.619,114.7 offset 0.8,0.6 font ',9'
set label 8 'lp' at 1.9997,98.8 offset 0.8,0.6 font ',9'
set label 9 'lf+hm2' at 3.0548,90.6 offset 0.8,0.6 font ',9'
set label 10 '2relu' at 1.4508,114.9 offset 0.8,0.6 font ',9'
set label 11 '2relu+lf+hm2' at 4.0052,91 offset 0.8,0.6 font ',9'
plot 'quality_cost_quality_translate_2pc-dealer_comm.dat' using 1:2 with points pt 7 ps 1.4 lc rgb '#1f77b4' title 'technique', 'quality_cost_quality_translate_2pc-dealer_comm_front.dat' using 1:2 with linespoints pt 6 ps 2.8 lw 2 lc rgb '#d62728' title 'Pareto front'
unset output
